"""The helpers tests use on the fake Bot API server: playing the user (messages, stickers, photos,
button presses), making Telegram fail, and reading what the bot did, waiting for a definite end."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from typing import Any

from tests.support.fake_bot_api.errors import ApiError
from tests.support.fake_bot_api.html import utf16_len
from tests.support.fake_bot_api.state import BotApiState


class UserSide(BotApiState):
    """The user's side of FakeBotApi and what tests read of the bot's."""

    # --- the user's side ----------------------------------------------------------------------

    def add_user(self, user_id: int, first_name: str = "张三", username: str | None = None) -> dict[str, Any]:
        """A private chat with a user (its id is the user's id), as after the user opened the bot."""
        with self.changed:
            user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}
            if username:
                user["username"] = username
            self.users[user_id] = user
            chat = {"id": user_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
            self.chats[user_id] = chat
            return user

    def add_group(self, chat_id: int, title: str) -> None:
        """A group the bot is a member of (a staff chat)."""
        with self.changed:
            self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}

    def user_says(self, chat_id: int, text: str, *, user_id: int | None = None) -> int:
        """The user (by default the private chat's) sends `text`; a leading /command gets its
        bot_command entity. Returns the update id."""
        message = self._user_message(chat_id, user_id, text=text)
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}]
        return self._push({"message": message})

    def user_sends_sticker(self, chat_id: int) -> int:
        return self._push({"message": self._user_message(chat_id, sticker={
            "file_id": "CAACAgIAAxkBAAIBfakeSticker", "file_unique_id": "AgADfake", "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False, "emoji": "🙂"})})

    def user_sends_photo(self, chat_id: int) -> int:
        sizes = [{"file_id": f"AgACAgIAAxkBAAIBfakePhoto{n}", "file_unique_id": f"AQADfake{n}", "width": w, "height": w,
                  "file_size": w * 100} for n, w in enumerate((90, 320, 800))]
        return self._push({"message": self._user_message(chat_id, photo=sizes, caption="这个材料可以吗")})

    def click(self, chat_id: int, message: dict[str, Any], title_part: str, taps: int = 1, inaccessible: bool = False,
              on_screen: bool = False) -> list[str]:
        """The user presses the button whose title contains `title_part` on `message` (as it is now),
        `taps` times in a row before the bot can react (a double tap): the callback query ids.

        All taps are queued at once, so the bot fetches them together and handles them concurrently. `inaccessible`:
        the query carries the message as Telegram sends one the bot can no longer read (an old one): its id and chat,
        date 0, no keyboard. `on_screen`: the button is one of `message` as given, still on the user's screen though the
        bot has edited it away since (the query carries the message as it is now, as Telegram sends it).
        """
        with self.changed:
            current = self.messages[(chat_id, message["message_id"])]
            seen = message if on_screen else current
            buttons = [b for row in (seen.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
            found = [b for b in buttons if title_part in b["text"]]
            assert found, f"no button {title_part!r} on message {message['message_id']}: {[b['text'] for b in buttons]}"
            query_ids = []
            for _tap in range(taps):
                query_id = str(4000000000000000000 + self.next_update_id)
                self.callback_queries[query_id] = {"answered": None}
                shown = {"message_id": current["message_id"], "chat": current["chat"], "date": 0} if inaccessible else current
                self._push({"callback_query": {"id": query_id, "from": self.users[chat_id], "message": copy.deepcopy(shown),
                                               "chat_instance": f"-{chat_id}777", "data": found[0]["callback_data"]}})
                query_ids.append(query_id)
        return query_ids

    def fail_next(self, method: str, code: int = 400, description: str = "Bad Request: injected failure",
                  retry_after: int | None = None) -> None:
        """The next call of `method` fails as Telegram would (429 with retry_after when given)."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        if retry_after is not None:
            code, description = 429, f"Too Many Requests: retry after {retry_after}"
        with self.changed:
            self.failures.setdefault(method, []).append(ApiError(code, description, parameters))

    def delay_next(self, method: str, seconds: float) -> None:
        """The next call of `method` takes `seconds` to answer (a slow network), while other calls are answered at once."""
        with self.changed:
            self.delays.setdefault(method, []).append(seconds)

    # --- what the bot did ---------------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent to the chat, in their current state (edits applied)."""
        with self.changed:
            return [copy.deepcopy(self.messages[(chat_id, m["message_id"])]) for m in self.sent if m["chat"]["id"] == chat_id]

    def mark(self, chat_id: int) -> int:
        return len(self.messages_to(chat_id))

    def wait_messages(self, chat_id: int, since: int = 0, count: int = 1, timeout: float = 60,
                      until: Callable[[list[dict[str, Any]]], bool] | None = None) -> list[dict[str, Any]]:
        """The messages sent to the chat after the first `since`, once there are at least `count`
        and `until` (when given) holds for them; AssertionError after `timeout` seconds."""
        def done() -> bool:
            messages = self.messages_to(chat_id)[since:]
            return len(messages) >= count and (until is None or until(messages))

        what = f"{count} message(s) to chat {chat_id}" + (f" satisfying {getattr(until, '__name__', 'a condition')}" if until else "")
        try:
            self.wait_until(done, timeout, what)
        except AssertionError as error:
            got = [message["text"][:200] for message in self.messages_to(chat_id)[since:]]
            raise AssertionError(f"{error}; got {got}") from None
        return self.messages_to(chat_id)[since:]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    refused = f"; last requests refused: {self.refused[-5:]}" if self.refused else ""
                    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{refused}")
                self.changed.wait(min(left, 0.2))

    def called(self, method: str) -> list[dict[str, Any]]:
        with self.changed:
            return [params for name, params in self.calls if name == method]

    def _user_message(self, chat_id: int, user_id: int | None = None, **content: Any) -> dict[str, Any]:
        with self.changed:
            user_id = user_id or chat_id
            if user_id not in self.users:
                self.add_user(user_id)
            return {"message_id": self._new_message_id(chat_id), "from": self.users[user_id], "chat": self.chats[chat_id],
                    "date": int(time.time()), **content}
