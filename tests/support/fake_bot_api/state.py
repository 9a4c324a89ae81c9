"""What the fake Bot API server holds (chats, users, pending updates, every message in its current
state, what the bot called), the update queue with its webhook delivery, and the lookups the Bot
API methods and the user's side share."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from typing import Any

from tests.support.fake_bot_api.errors import ApiError, bad_request


class BotApiState:
    """The state every part of FakeBotApi works on; `changed` guards it and is notified on every change."""

    def __init__(self, token: str = "123456789:AAFakeTokenForTests-abcdefghijklmno", bot_username: str = "govqa_test_bot") -> None:
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "政务服务助手", "username": bot_username,
                         "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False,
                         "can_connect_to_business": False, "has_main_web_app": False}
        self.changed = threading.Condition()
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []  # not yet confirmed by an offset
        self.next_update_id = 100000
        self.next_message_id: dict[int, int] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # current state of every message
        self.sent: list[dict[str, Any]] = []  # every sendMessage result, in order
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every request: (method, parameters)
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_queries: dict[str, dict[str, Any]] = {}  # id -> {"answered": params | None}
        self.edits: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {"url": ""}
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status) of webhook POSTs
        self.failures: dict[str, list[ApiError]] = {}
        self.delays: dict[str, list[float]] = {}  # seconds the next calls of a method take (a slow network)
        self.refused: list[tuple[str, dict[str, Any], str]] = []  # (method, parameters, error) of requests refused
        self._server: ThreadingHTTPServer | None = None  # set by FakeBotApi.start()

    def _push(self, update: dict[str, Any]) -> int:
        with self.changed:
            update = {"update_id": self.next_update_id, **update}
            self.next_update_id += 1
            self.updates.append(update)
            self.changed.notify_all()
            webhook = dict(self.webhook)
        if webhook["url"]:
            threading.Thread(target=self._deliver, args=(update, webhook), daemon=True).start()
        return update["update_id"]

    def _deliver(self, update: dict[str, Any], webhook: dict[str, Any]) -> None:
        """POST an update to the webhook as Telegram does (retrying a few times when it fails)."""
        headers = {"Content-Type": "application/json"}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        for _attempt in range(5):
            request = urllib.request.Request(webhook["url"], json.dumps(update).encode(), headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            with self.changed:
                self.webhook_deliveries.append((update["update_id"], status))
                if status == 200:
                    self.updates = [u for u in self.updates if u["update_id"] != update["update_id"]]
                self.changed.notify_all()
            if status == 200:
                return
            time.sleep(0.5)

    def _new_message_id(self, chat_id: int) -> int:
        self.next_message_id[chat_id] = self.next_message_id.get(chat_id, 0) + 1
        return self.next_message_id[chat_id]

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError) as error:
            raise bad_request("chat_id is empty" if "chat_id" not in params else "chat not found") from error
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        return self.chats[chat_id]
