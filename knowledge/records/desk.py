"""The staff desk's records: the queue of handoffs, who took which, the lines between clerk and
citizen, and every clerk's action, in the same database as the handoffs (the SQLite file settings.records_db,
or PostgreSQL when settings.database_url is set: knowledge/records/database.py).

A handoff (written by actions/handoff.py, table ``handoffs``) is *waiting* (status NULL) until a
clerk takes it (*taken*, with the clerk's name), then *closed* with an outcome. While it is taken,
the conversation is *held*: what the citizen types goes to the clerk (``citizen_message``), not to
the assistant; the hall API's chat route and the Telegram bot check ``held`` before asking Rasa.

Lines in ``desk_messages``: ``citizen`` (what the citizen typed while held), ``clerk`` (a clerk's
reply) and ``desk`` (the desk's own notices: "工作人员已接入…", "…已结束本次人工服务"). Clerk and desk
lines are delivered to the citizen's channel: the web page polls ``messages_for`` (its session's
lines after the last it has), the Telegram bot polls ``undelivered`` for its sender prefix and
marks what it sent with ``mark_delivered``. Everything typed is stored masked
(knowledge/records/privacy.py). Every take, reply and close is a row of ``desk_actions`` with its
time, clerk and handoff id. `Records.purge_older_than` covers both tables.

A take is one conditional UPDATE (``… WHERE status IS NULL``): of two clerks taking the same handoff at
once, on SQLite or PostgreSQL, exactly one changes the row and the other is told who has it.

Usage::

    desk = DeskRecords.from_settings(settings)    # or DeskRecords(path) for a SQLite file
    desk.queue()                                   # waiting and taken handoffs, oldest first
    desk.take(7, "王芳")                           # DeskError when closed or taken by another clerk
    desk.reply(7, "王芳", "您好，请问营业执照是哪一年办的？")
    desk.held("kefu-web-3f9a…")                    # the taken handoff of that conversation, or None
    desk.citizen_message("kefu-web-3f9a…", "2019年")   # stored for the clerk; the handoff id
    desk.messages_for("kefu-web-3f9a…", after=0)   # clerk and desk lines for the web page
    desk.close(7, "王芳", "answered", note="已告知补办流程", hotline="12345")
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from knowledge.records import schema
from knowledge.records.privacy import mask_personal_data
from knowledge.records.store import Records, time_on

HANDOFFS, MESSAGES, ACTIONS = schema.handoffs, schema.desk_messages, schema.desk_actions

WAITING, TAKEN, CLOSED = "waiting", "taken", "closed"
# How a handoff ended, as the clerk chooses it on the desk (key stored, label shown).
OUTCOMES = {"answered": "已解答", "offline": "已转线下窗口", "unreachable": "无法联系", "other": "其他"}
CITIZEN, CLERK, DESK = "citizen", "clerk", "desk"
CLERK_MAX_CHARS = 40


def joined_text(clerk: str) -> str:
    return f"工作人员已接入（{clerk}），您可以直接在这里和工作人员对话；工作人员结束服务前，您的消息都会发给工作人员。"


def closed_text(outcome: str, hotline: str) -> str:
    return (f"工作人员已结束本次人工服务（{OUTCOMES.get(outcome, outcome)}）。如还有问题，可以继续向智能助手提问，"
            f"或拨打政务服务热线 {hotline}。")


class DeskError(ValueError):
    """A desk action that cannot be done, with why in Chinese (the API answers 404 / 409 with it)."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.status = status




def _status(row: dict[str, Any]) -> str:
    return row.get("status") or WAITING


class DeskRecords(Records):
    """The records store with the staff desk's queries and actions (see the module docstring)."""

    # --- reading -------------------------------------------------------------------------------

    def queue(self, *, closed: int = 20) -> list[dict[str, Any]]:
        """Open handoffs (waiting, taken) oldest first, then the latest `closed` closed ones, newest first."""
        open_rows = self._select(select(HANDOFFS).where(or_(HANDOFFS.c.status.is_(None), HANDOFFS.c.status == TAKEN))
                                 .order_by(HANDOFFS.c.id))
        done = self._select(select(HANDOFFS).where(HANDOFFS.c.status == CLOSED)
                            .order_by(HANDOFFS.c.closed_at.desc(), HANDOFFS.c.id.desc()).limit(closed))
        return [_summary(row) for row in open_rows + done]

    def handoff(self, handoff_id: int) -> dict[str, Any]:
        """One handoff with its transcript, its desk lines and its actions; DeskError (404) when there is none."""
        rows = self._select(select(HANDOFFS).where(HANDOFFS.c.id == handoff_id))
        if not rows:
            raise DeskError(f"没有编号为 {handoff_id} 的转人工记录", status=404)
        row = rows[0]
        lines = select(MESSAGES.c.id, MESSAGES.c.time, MESSAGES.c.author, MESSAGES.c.clerk, MESSAGES.c.text,
                       MESSAGES.c.delivered_at).where(MESSAGES.c.handoff_id == handoff_id).order_by(MESSAGES.c.id)
        transcript = [{**line, "time": self._readable_time(line["time"])} if "time" in line else line
                      for line in json.loads(row["transcript"] or "[]")]
        return {**_summary(row), "transcript": transcript, "messages": self._select(lines), "actions": self.actions(handoff_id)}

    def _readable_time(self, stamp: Any) -> str:
        """A transcript line's time as every other time of the desk reads: ISO on the deployment's clock. Handoffs
        recorded before session 41 hold Rasa's Unix timestamps ("1796660568.48"); others are ISO already."""
        try:
            return time_on(float(stamp), self.timezone)
        except (TypeError, ValueError, OverflowError, OSError):
            return "" if stamp is None else str(stamp)  # as it was stored

    def actions(self, handoff_id: int | None = None) -> list[dict[str, Any]]:
        """The clerks' actions (of one handoff, or all), oldest first."""
        query = select(ACTIONS).order_by(ACTIONS.c.id)
        return self._select(query if handoff_id is None else query.where(ACTIONS.c.handoff_id == handoff_id))

    def held(self, sender_id: str) -> dict[str, Any] | None:
        """The conversation's handoff a clerk has taken and not closed (its messages go to the clerk), or None."""
        rows = self._select(select(HANDOFFS).where(HANDOFFS.c.sender_id == sender_id, HANDOFFS.c.status == TAKEN)
                            .order_by(HANDOFFS.c.id.desc()).limit(1))
        return _summary(rows[0]) if rows else None

    def latest(self, sender_id: str) -> dict[str, Any] | None:
        """The conversation's latest handoff (any status), or None."""
        rows = self._select(select(HANDOFFS).where(HANDOFFS.c.sender_id == sender_id).order_by(HANDOFFS.c.id.desc()).limit(1))
        return _summary(rows[0]) if rows else None

    def messages_for(self, sender_id: str, *, after: int = 0) -> list[dict[str, Any]]:
        """The clerk and desk lines for this conversation after line `after`, marked delivered (the web page reads them)."""
        rows = self._select(select(MESSAGES.c.id, MESSAGES.c.time, MESSAGES.c.handoff_id, MESSAGES.c.author, MESSAGES.c.clerk,
                                   MESSAGES.c.text)
                            .where(MESSAGES.c.sender_id == sender_id, MESSAGES.c.id > after, MESSAGES.c.author != CITIZEN)
                            .order_by(MESSAGES.c.id))
        self.mark_delivered([row["id"] for row in rows])
        return rows

    def undelivered(self, sender_prefix: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Clerk and desk lines not yet delivered to conversations whose sender starts with `sender_prefix`, oldest first."""
        pattern = sender_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self._select(select(MESSAGES.c.id, MESSAGES.c.time, MESSAGES.c.handoff_id, MESSAGES.c.sender_id,
                                   MESSAGES.c.author, MESSAGES.c.clerk, MESSAGES.c.text)
                            .where(MESSAGES.c.delivered_at.is_(None), MESSAGES.c.author != CITIZEN,
                                   MESSAGES.c.sender_id.like(pattern, escape="\\"))
                            .order_by(MESSAGES.c.id).limit(limit))

    def mark_delivered(self, message_ids: list[int]) -> None:
        if not message_ids:
            return
        self._execute(lambda connection: connection.execute(
            update(MESSAGES).where(MESSAGES.c.delivered_at.is_(None), MESSAGES.c.id.in_(message_ids)).values(delivered_at=self.now())))

    def history(self, sender_id: str, *, limit: int = 200) -> dict[str, Any]:
        """The conversation's question log (masked as stored) and its handoffs, for the clerk's console."""
        log = schema.questions
        questions = self._select(select(log.c.time, log.c.question, log.c.outcome, log.c.guide_id, log.c.aspect, log.c.confidence)
                                 .where(log.c.sender_id == sender_id).order_by(log.c.id.desc()).limit(limit))
        handoffs = self._select(select(HANDOFFS).where(HANDOFFS.c.sender_id == sender_id).order_by(HANDOFFS.c.id))
        return {"sender_id": sender_id, "questions": questions[::-1], "handoffs": [_summary(row) for row in handoffs]}

    # --- acting ---------------------------------------------------------------------------------

    def take(self, handoff_id: int, clerk: str) -> dict[str, Any]:
        """The clerk takes a waiting handoff (taking one's own again is a no-op); the citizen is told."""
        clerk = _clerk(clerk)
        current = self.handoff(handoff_id)
        if current["status"] == TAKEN and current["clerk"] == clerk:
            return current
        if current["status"] != WAITING:
            raise DeskError(_busy(current))
        now = self.now()

        def take(connection: Connection) -> int:
            # The WHERE decides between clerks: the row changes for one of them only (PostgreSQL re-checks it
            # after waiting for the other's row lock; SQLite runs one writer at a time).
            done = connection.execute(update(HANDOFFS).where(HANDOFFS.c.id == handoff_id, HANDOFFS.c.status.is_(None))
                                      .values(status=TAKEN, clerk=clerk, taken_at=now)).rowcount
            if done:
                _line(connection, now, current, DESK, clerk, joined_text(clerk))
                _action(connection, now, handoff_id, clerk, "take")
            return done

        done = self._execute(take)
        if not done:  # another clerk took it between reading and writing
            raise DeskError(_busy(self.handoff(handoff_id)))
        return self.handoff(handoff_id)

    def reply(self, handoff_id: int, clerk: str, text: str) -> dict[str, Any]:
        """A clerk's reply to the citizen of a handoff this clerk has taken: stored masked, to be delivered."""
        clerk = _clerk(clerk)
        text = mask_personal_data(text.strip())
        if not text:
            raise DeskError("回复内容不能为空", status=422)
        current = self.handoff(handoff_id)
        if current["status"] != TAKEN or current["clerk"] != clerk:
            raise DeskError("请先接入该转人工再回复" if current["status"] == WAITING else _busy(current))
        now = self.now()

        def reply(connection: Connection) -> None:
            message_id = _line(connection, now, current, CLERK, clerk, text)
            _action(connection, now, handoff_id, clerk, "reply", json.dumps({"message_id": message_id}))

        self._execute(reply)
        return self.handoff(handoff_id)

    def close(self, handoff_id: int, clerk: str, outcome: str, *, note: str = "", hotline: str = "12345") -> dict[str, Any]:
        """Close a waiting or taken handoff with an outcome (OUTCOMES) and a note; the citizen is told."""
        clerk = _clerk(clerk)
        if outcome not in OUTCOMES:
            raise DeskError(f"处理结果只能是：{'、'.join(OUTCOMES.values())}（{', '.join(OUTCOMES)}）", status=422)
        current = self.handoff(handoff_id)
        if current["status"] == CLOSED:
            raise DeskError(_busy(current))
        if current["status"] == TAKEN and current["clerk"] != clerk:
            raise DeskError(_busy(current))
        now, note = self.now(), mask_personal_data(note.strip())

        def close(connection: Connection) -> int:
            mine = (HANDOFFS.c.status == TAKEN) & (HANDOFFS.c.clerk == clerk)
            done = connection.execute(update(HANDOFFS).where(HANDOFFS.c.id == handoff_id, or_(HANDOFFS.c.status.is_(None), mine))
                                      .values(status=CLOSED, clerk=clerk, closed_at=now, outcome=outcome,
                                              outcome_note=note or None)).rowcount
            if done:
                _line(connection, now, current, DESK, clerk, closed_text(outcome, hotline))
                _action(connection, now, handoff_id, clerk, "close", json.dumps({"outcome": outcome, "note": note},
                                                                                ensure_ascii=False))
            return done

        done = self._execute(close)
        if not done:
            raise DeskError(_busy(self.handoff(handoff_id)))
        return self.handoff(handoff_id)

    def citizen_message(self, sender_id: str, text: str) -> int | None:
        """Store what the citizen typed in a held conversation, for the clerk; its handoff id, or None when not held."""
        held = self.held(sender_id)
        if held is None:
            return None
        self._execute(lambda connection: _line(connection, self.now(), held, CITIZEN, None, mask_personal_data(text)))
        return int(held["id"])


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    """A handoff row as the desk lists it (the transcript stays out of the queue)."""
    keys = ("id", "time", "sender_id", "reason", "guide_id", "question", "clerk", "taken_at", "closed_at", "outcome", "outcome_note")
    summary = {key: row.get(key) for key in keys}
    summary["status"] = _status(row)
    summary["outcome_label"] = OUTCOMES.get(row.get("outcome") or "", row.get("outcome"))
    return summary


def _clerk(name: str) -> str:
    clerk = " ".join((name or "").split())
    if not clerk:
        raise DeskError("请填写工作人员姓名或工号", status=422)
    if len(clerk) > CLERK_MAX_CHARS:
        raise DeskError(f"工作人员姓名或工号最多 {CLERK_MAX_CHARS} 个字", status=422)
    return mask_personal_data(clerk)


def _busy(current: dict[str, Any]) -> str:
    if current["status"] == CLOSED:
        return f"转人工 {current['id']} 已由 {current['clerk']} 结束（{current['outcome_label']}）"
    return f"转人工 {current['id']} 已由 {current['clerk']} 接入"


def _line(connection: Connection, now: str, handoff: dict[str, Any], author: str, clerk: str | None, text: str) -> int:
    result = connection.execute(insert(MESSAGES).values(time=now, handoff_id=handoff["id"], sender_id=handoff["sender_id"],
                                                        author=author, clerk=clerk, text=text))
    return int(result.inserted_primary_key[0])


def _action(connection: Connection, now: str, handoff_id: int, clerk: str, action: str, detail: str | None = None) -> None:
    connection.execute(insert(ACTIONS).values(time=now, handoff_id=handoff_id, clerk=clerk, action=action, detail=detail))
