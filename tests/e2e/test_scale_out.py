"""Scale-out on real servers: two Rasa servers and two action servers behind HAProxy, conversations in
PostgreSQL, the conversation lock in Redis (bot/rasa/lock_store.py), started the way `make run` does with
GOVQA_RASA_INSTANCES=2, GOVQA_ACTION_INSTANCES=2, GOVQA_DATABASE_URL and GOVQA_REDIS_URL (throwaway
servers unless those are set).

What an operator would check: one conversation's messages are processed one after the other even when
they reach two servers at once, and PostgreSQL holds every event once, in order; an instance stopped
under load (a Rasa server or an action server) costs no request and no conversation its context, and comes
back by itself; an index published under load is served by both action servers within moments of each
other, and no reply mixes two versions; Redis or
PostgreSQL restarting makes turns fail politely for a moment, then everything works again; no password is in a
log, a generated file or a command line; a handoff made through one instance is in the staff desk's queue, which
the hall API reads from the records on PostgreSQL (knowledge/records/database.py), not from a SQLite file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from bot.launcher.balancer import ServerPool
from bot.launcher.servers import PostgresServer, RedisServer, psql
from knowledge.index.embedding import Embedder
from knowledge.records.desk import DeskRecords
from protocol import unavailable_text
from tests.support import Chat, Turn, free_port, parsed_guide, run_cli
from tests.support.servers import Stores, stores  # noqa: F401  (the fixture)
from tests.support.stack import Assistant, running_assistant

pytestmark = pytest.mark.e2e

# A question and a follow-up that only makes sense in its context ("那要多久？" names no item).
CONVERSATIONS = [("开公司要带什么材料", "那要多久？", "company-setup"), ("用水报装要什么材料", "在哪里办呢", "water-connection"),
                 ("用电报装要多久", "那要交哪些材料", "electricity-connection"), ("营业执照丢了补办要多久", "在哪里办呢", "license-reissue")]


@dataclass
class Scaled:
    assistant: Assistant
    database_url: str
    stores: Stores

    @property
    def pool(self) -> ServerPool:
        assert self.assistant.stack.pool is not None
        return self.assistant.stack.pool

    @property
    def action_pool(self) -> ServerPool:
        assert self.assistant.stack.action_pool is not None
        return self.assistant.stack.action_pool

    def instance_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.pool.ports[index]}/webhooks/rest/webhook"

    def action_versions(self) -> list[str | None]:
        """The index version each action server says it serves (GET /health, no token)."""
        versions = []
        for port in self.action_pool.ports:
            try:
                versions.append(httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json().get("index_version"))
            except (httpx.HTTPError, ValueError):
                versions.append(None)
        return versions


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, stores: Stores) -> Iterator[Scaled]:  # noqa: F811
    database_url = stores.new_database("scale")
    env = {"GOVQA_DATABASE_URL": database_url, "GOVQA_REDIS_URL": stores.redis_url, "GOVQA_RASA_INSTANCES": "2",
           "GOVQA_ACTION_INSTANCES": "2"}
    with running_assistant(tmp_path_factory.mktemp("scale"), embedder, extra_env=env, instance_ports=[free_port(), free_port()],
                           action_ports=[free_port(), free_port()]) as assistant:
        yield Scaled(assistant, database_url, stores)


def _turns(events: list[tuple[str, ...]]) -> list[list[tuple[str, ...]]]:
    """Events split at each user message (what came before the first one is the session start)."""
    turns: list[list[tuple[str, ...]]] = []
    for event in events:
        if event[0] == "user":
            turns.append([])
        if turns:
            turns[-1].append(event)
    return turns


def test_two_messages_of_one_sender_at_once_on_two_instances_take_turns(scaled: Scaled) -> None:
    headers = scaled.assistant.stack.rest_headers
    senders = [f"test-pair-{index}" for index in range(4)]
    replies: dict[tuple[str, int], Turn] = {}
    start = threading.Barrier(len(senders) * 2)

    def send(sender: str, index: int, message: str) -> None:
        start.wait()  # every message leaves at the same moment, each pair to both instances
        replies[sender, index] = Chat(scaled.instance_url(index), sender, headers).say(message)

    threads = [threading.Thread(target=send, args=(sender, index, CONVERSATIONS[number][index]))
               for number, sender in enumerate(senders) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(replies) == len(threads)
    for (sender, _index), turn in replies.items():
        assert turn.text and turn.payload("unavailable") is None, f"{sender}: {turn!r}"
    for number, sender in enumerate(senders):
        turns = _turns(scaled.stores.events(scaled.database_url, sender))
        # Two whole turns, one after the other: each starts with its user message and ends listening,
        # no event of one inside the other, every event once.
        assert [turn[0][3] for turn in turns] in (list(CONVERSATIONS[number][:2]), list(CONVERSATIONS[number][1::-1]))
        for turn in turns:
            assert turn[-1][:3] == ("action", "", "action_listen"), turn
            assert sum(event[0] == "user" for event in turn) == 1


def _load(scaled: Scaled, users: int, seconds: float, during: dict[float, object],
          seen: list[Turn] | None = None, until: threading.Event | None = None) -> tuple[list[str], dict[str, int], int]:
    """`users` people each having conversations (a question, then a follow-up that needs its context)
    for `seconds` (or until `until` is set); `during` maps seconds after the start to things to do then.
    Returns the problems (a failed request, a reply in the wrong context, a polite apology), messages sent
    per sender, and the number of apologies; every reply is appended to `seen` when given."""
    stack = scaled.assistant.stack
    problems: list[str] = []
    sent: dict[str, int] = {}
    apologies = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(number: int) -> None:
        round_ = 0
        while time.monotonic() < stop_at and not (until is not None and until.is_set()):
            round_ += 1
            question, follow_up, guide_id = CONVERSATIONS[(number + round_) % len(CONVERSATIONS)]
            chat = Chat(stack.rest_url, f"test-load-{number}-{round_}", stack.rest_headers)
            for message in (question, follow_up):
                try:
                    turn = chat.say(message)
                except httpx.HTTPError as error:
                    with lock:
                        problems.append(f"{chat.sender} {message}: {type(error).__name__} {error}")
                    break
                with lock:
                    sent[chat.sender] = sent.get(chat.sender, 0) + 1
                    if seen is not None:
                        seen.append(turn)
                    if turn.payload("unavailable") is not None:
                        apologies[0] += 1
                        problems.append(f"{chat.sender} {message}: apology")
                        break
                    if turn.guide_id != guide_id:
                        problems.append(f"{chat.sender} {message}: answered {turn.guide_id}, not {guide_id}")

    threads = [threading.Thread(target=user, args=(number,)) for number in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for at, action in sorted(during.items()):
        time.sleep(max(0.0, started + at - time.monotonic()))
        action()  # type: ignore[operator]
    for thread in threads:
        thread.join(180)
    return problems, sent, apologies[0]


class HaproxyLog:
    """haproxy.log from the moment this is made: what HAProxy said during one test."""

    def __init__(self, scaled: Scaled) -> None:
        self.path = scaled.assistant.stack.logs / "haproxy.log"
        self.start = self.path.stat().st_size

    def new_text(self) -> str:
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            return handle.read().decode("utf-8", errors="replace")

    def wait_for(self, *lines: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(line in self.new_text() for line in lines):
            time.sleep(1)
        assert all(line in self.new_text() for line in lines), self.new_text()[-2000:]


def _switched_at(log: Path, version: str) -> float:
    """When an action server's log says it switched to `version` (seconds since the epoch, ms resolution)."""
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.endswith("已切换到新发布的索引 " + version):
            return dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    raise AssertionError(f"{log.name} does not say it switched to {version}")


def _published_version(scaled: Scaled) -> str:
    status = run_cli(scaled.assistant.settings, "status", "--json")
    return str(json.loads(status.stdout)["version"])


def _user_events(scaled: Scaled) -> dict[str, int]:
    rows = psql(scaled.database_url, "SELECT sender_id, count(*) FROM events WHERE type_name = 'user' "
                                     "AND sender_id LIKE 'test-load-%' GROUP BY sender_id")
    return {sender: int(count) for sender, count in (line.split("|") for line in rows.splitlines() if line)}


def test_passwords_never_reach_a_log_a_file_or_a_command_line(scaled: Scaled) -> None:
    Chat(scaled.assistant.stack.rest_url, "test-secrets", scaled.assistant.stack.rest_headers).say("开公司要带什么材料")
    passwords = [urlsplit(url).password for url in (scaled.database_url, scaled.stores.redis_url)]
    passwords = [password for password in passwords if password]
    stack = scaled.assistant.stack
    files = [*stack.logs.glob("*.log"), *(stack.settings.var_dir / "rasa").glob(f"*-{stack.rasa_port}.*")]
    assert any(path.name.startswith("endpoints-") for path in files) and any(path.name.startswith("haproxy-") for path in files)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not any(password in text for password in passwords), f"a password is in {path}"
    assert stack.balancer is not None
    for process in [*stack.balancer.processes(), stack.kefu]:
        for member in [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]:
            assert not any(password in " ".join(member.cmdline()) for password in passwords)


def _restart_under_load(scaled: Scaled, server: PostgresServer | RedisServer) -> None:
    """Stop `server` 2 s into a 5-user load and start it again 2 s later: while it is away turns are
    answered with the apology and the hotline, never an error page; afterwards everything works again
    without restarting any of our processes."""
    down = threading.Event()
    problems, _sent, apologies = _load(scaled, users=5, seconds=8,
                                       during={2.0: lambda: (server.stop(delete=False), down.set()), 4.0: server.start})
    assert down.is_set()
    assert apologies >= 1
    assert all(problem.endswith(": apology") for problem in problems), problems
    hotline = scaled.assistant.settings.hotline
    assert "请稍后再试" in unavailable_text(hotline) and hotline in unavailable_text(hotline)
    # Back: new conversations are answered, with their context (a stale pooled connection may cost
    # one more apology just after the restart, so give the first few turns a moment).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        problems, _sent, apologies = _load(scaled, users=3, seconds=2, during={})
        if not problems:
            break
    problems, _sent, apologies = _load(scaled, users=3, seconds=3, during={})
    assert problems == [] and apologies == 0


def test_redis_restarting_under_load_fails_politely_then_recovers(scaled: Scaled) -> None:
    if scaled.stores.redis is None:
        pytest.skip("GOVQA_REDIS_URL 指向外部 Redis：测试不重启别人的服务器")
    _restart_under_load(scaled, scaled.stores.redis)


def test_postgresql_restarting_under_load_fails_politely_then_recovers(scaled: Scaled) -> None:
    if scaled.stores.postgres is None:
        pytest.skip("GOVQA_DATABASE_URL 指向外部 PostgreSQL：测试不重启别人的服务器")
    _restart_under_load(scaled, scaled.stores.postgres)


def test_an_instance_stopped_under_load_loses_no_request_and_no_context(scaled: Scaled) -> None:
    pool = scaled.pool
    victim = pool.instances[0]
    before = _user_events(scaled)
    log = HaproxyLog(scaled)  # only what HAProxy says from now on (earlier tests took instances out too)
    problems, sent, _apologies = _load(scaled, users=20, seconds=15,
                                       during={4.0: lambda: os.killpg(victim.pid, signal.SIGTERM)})
    assert victim.poll() is not None, "the instance was not stopped"
    assert problems == []
    # PostgreSQL holds each message once: none lost, none processed twice.
    stored = _user_events(scaled)
    assert {sender: stored.get(sender, 0) - before.get(sender, 0) for sender in sent} == sent
    # The launcher restarted it; HAProxy took it out and, once it passed its health checks, back in.
    log.wait_for("rasa1 is DOWN", "rasa1 is UP")
    assert pool.restarts[0] == 1 and pool.instances[0].poll() is None
    turn = Chat(scaled.instance_url(0), "test-after-restart", scaled.assistant.stack.rest_headers).say("开公司要带什么材料")
    assert turn.guide_id == "company-setup"


def test_a_handoff_through_one_instance_is_in_the_desk_queue_read_from_postgresql(scaled: Scaled) -> None:
    stack = scaled.assistant.stack
    sender = f"test-desk-{time.time_ns()}"
    chat = Chat(scaled.instance_url(1), sender, stack.rest_headers)  # the second instance, not the balancer
    chat.say("用水报装要什么材料")
    turn = chat.say("转人工")
    marker = turn.payload("handoff")
    assert marker is not None, turn
    staff = {"Authorization": f"Bearer {stack.staff_token}"}
    deadline, mine = time.monotonic() + 30, []
    while not mine and time.monotonic() < deadline:  # the action server writes records in the background
        queue = httpx.get(stack.kefu_url + "/desk/api/queue", headers=staff, timeout=10).json()["handoffs"]
        mine = [row for row in queue if row["sender_id"] == sender]
        time.sleep(0.2)
    assert [(row["status"], row["guide_id"]) for row in mine] == [("waiting", "water-connection")]
    number = mine[0]["id"]
    # The row is PostgreSQL's: the action server wrote it there, and a clerk's take through the hall API lands there too.
    taken = httpx.post(f"{stack.kefu_url}/desk/api/handoffs/{number}/take", headers=staff, json={"clerk": "王芳"}, timeout=10)
    assert taken.status_code == 200 and taken.json()["status"] == "taken"
    stored = psql(scaled.database_url, f"SELECT reason, status, clerk FROM handoffs WHERE id = {number} AND sender_id = '{sender}'")
    assert stored.strip() == "request_human|taken|王芳"
    assert DeskRecords(stack.settings.records_db).latest(sender) is None  # nothing of it in a SQLite records file


def test_an_action_server_stopped_under_load_loses_no_request(scaled: Scaled) -> None:
    pool = scaled.action_pool
    victim = pool.instances[1]
    log = HaproxyLog(scaled)
    problems, _sent, _apologies = _load(scaled, users=20, seconds=15,
                                        during={4.0: lambda: os.killpg(victim.pid, signal.SIGTERM)})
    assert victim.poll() is not None, "the action server was not stopped"
    assert problems == []  # it left HAProxy first (actions/server.py), so no action call was cut off
    log.wait_for("actions2 is DOWN", "actions2 is UP")
    assert pool.restarts[1] == 1 and pool.instances[1].poll() is None


def test_an_index_published_under_load_is_served_by_both_action_servers_together(scaled: Scaled) -> None:
    """The deployment's shared index folder: the admin publishes once; every action server watches
    CURRENT and switches. Both serve the new version within moments of each other, no reply mixes the
    two versions, and no request fails while they switch."""
    settings = scaled.assistant.settings
    path = settings.guides_dir / "company-setup.md"
    original = path.read_text(encoding="utf-8")
    old_phone, new_phone = parsed_guide("company-setup").contacts[0].phone, "0000-8888888"
    deadline = time.monotonic() + 240  # both up (one may still be loading after the previous test restarted it)
    while None in scaled.action_versions() and time.monotonic() < deadline:
        time.sleep(1)
    before = set(scaled.action_versions())
    assert len(before) == 1 and None not in before
    switched: dict[int, tuple[str, float]] = {}  # action server -> (the first other version it reported, when)
    published: list[str] = []
    watching = threading.Event()

    def watch() -> None:  # from before the build starts: the moment each server switches, to 50 ms
        deadline = time.monotonic() + 300
        while len(switched) < 2 and time.monotonic() < deadline and watching.is_set():
            for index, version in enumerate(scaled.action_versions()):
                if version is not None and version not in before and index not in switched:
                    switched[index] = (version, time.monotonic())
            time.sleep(0.05)

    def publish() -> None:
        path.write_text(original.replace(old_phone, new_phone), encoding="utf-8")
        built = run_cli(settings, "build")
        assert built.returncode == 0, built.stdout + built.stderr
        published.append(_published_version(scaled))

    def publish_and_switch() -> None:
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            publish()
        finally:
            watcher.join(60)  # after the build: each server notices within index_poll_seconds, then loads it
            watching.clear()
        time.sleep(5)  # turns answered from the new version by both
        done.set()

    seen: list[Turn] = []
    done = threading.Event()
    watching.set()
    try:
        # The build takes 10-60 s under this load on 2 cores: the users go on until both servers have switched.
        problems, _sent, _apologies = _load(scaled, users=10, seconds=240, during={2.0: publish_and_switch}, seen=seen, until=done)
    finally:
        path.write_text(original, encoding="utf-8")
        restored = run_cli(settings, "build")
        assert restored.returncode == 0, restored.stdout + restored.stderr
    assert problems == []
    assert {index: version for index, (version, _at) in switched.items()} == {0: published[0], 1: published[0]}
    # When each switched, to the millisecond, from its own log ("已切换到新发布的索引 <version>"): /health can
    # answer late while a server loads the new version, so polling it cannot tell the two moments apart.
    moments = [_switched_at(scaled.action_pool.log(index), published[0]) for index in (0, 1)]
    skew = abs(moments[0] - moments[1])
    # Each polls CURRENT every index_poll_seconds and then loads the new version (a few seconds under load).
    assert skew <= settings.index_poll_seconds + 5, f"the two action servers switched {skew:.1f} s apart"
    print(f"action servers switched {skew:.3f} s apart")  # the README quotes it (pytest -s)
    versions = {(turn.answer or {}).get("index_version") for turn in seen if turn.answer}
    assert published[0] in versions and before < versions
    for turn in seen:  # each reply is wholly from the version it names
        version = (turn.answer or {}).get("index_version")
        if turn.guide_id == "company-setup" and version:
            expected, other = (new_phone, old_phone) if version == published[0] else (old_phone, new_phone)
            assert expected in turn.text and other not in turn.text, turn
    deadline = time.monotonic() + 60  # the restored guide is served again before the next test
    while set(scaled.action_versions()) != {_published_version(scaled)} and time.monotonic() < deadline:
        time.sleep(0.2)
