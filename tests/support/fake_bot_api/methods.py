"""The Bot API methods the fake server implements, strict where Telegram is: getMe, getUpdates (long
polling, refused while a webhook is set), sendMessage, sendChatAction, answerCallbackQuery,
editMessageReplyMarkup, the commands, the webhook, logOut and close."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from tests.support.fake_bot_api.errors import NOT_MODIFIED, QUERY_TOO_OLD, ApiError, bad_request
from tests.support.fake_bot_api.html import MESSAGE_LIMIT, parse_html, utf16_len
from tests.support.fake_bot_api.keyboards import check_keyboard
from tests.support.fake_bot_api.state import BotApiState

CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}


class BotApiMethods(BotApiState):
    """The Bot API methods of FakeBotApi: `_api_<method>` answers `<method>` with its result, or raises ApiError."""

    # --- methods (names as in the Bot API, snake-cased after "_api_") ---------------------------

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - Bot API method names
        return self.bot_user

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        with self.changed:
            if self.webhook["url"]:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                if self.webhook["url"]:  # set while this long poll waited: its updates go to the webhook alone
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                ready = [u for u in self.updates if not allowed or any(kind in u for kind in allowed)]
                left = deadline - time.monotonic()
                if ready or left <= 0 or self._server is None:
                    return copy.deepcopy(ready[:limit])
                self.changed.wait(min(left, 0.5))

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        with self.changed:
            chat = self._chat(params)
            source = str(params.get("text") or "")
            mode = str(params.get("parse_mode") or "").lower()
            if mode == "html":
                text, entities = parse_html(source)
            elif mode:
                raise bad_request(f"unsupported parse_mode {params['parse_mode']} in this fake")
            else:
                text, entities = source, []
            if not text.strip():
                raise bad_request("message text is empty")
            if utf16_len(text) > MESSAGE_LIMIT:
                raise bad_request("message is too long")
            message: dict[str, Any] = {"message_id": self._new_message_id(chat["id"]), "from": self.bot_user, "chat": chat,
                                       "date": int(time.time()), "text": text}
            if entities:
                message["entities"] = entities
            markup = check_keyboard(params.get("reply_markup"))
            if markup and markup["inline_keyboard"]:
                message["reply_markup"] = markup
            self.messages[(chat["id"], message["message_id"])] = message
            self.sent.append(message)
            self.changed.notify_all()
            return copy.deepcopy(message)

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:  # noqa: N802
        with self.changed:
            chat = self._chat(params)
            if params.get("action") not in CHAT_ACTIONS:
                raise bad_request("wrong parameter action in request")
            self.chat_actions.append((chat["id"], str(params["action"])))
            self.changed.notify_all()
            return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:  # noqa: N802
        with self.changed:
            query = self.callback_queries.get(str(params.get("callback_query_id")))
            if query is None or query["answered"] is not None:
                raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
            query["answered"] = params
            self.changed.notify_all()
            return True

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        with self.changed:
            chat = self._chat(params)
            message = self.messages.get((chat["id"], int(params.get("message_id") or 0)))
            if message is None or message["from"]["id"] != self.bot_user["id"]:
                raise bad_request("message to edit not found")
            markup = check_keyboard(params.get("reply_markup"))
            markup = markup if markup and markup["inline_keyboard"] else None
            if markup == message.get("reply_markup"):
                raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
            if markup is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = markup
            message["edit_date"] = int(time.time())
            self.edits.append(params)
            self.changed.notify_all()
            return copy.deepcopy(message)

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:  # noqa: N802
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(isinstance(c, dict) and c.get("command") and c.get("description") for c in commands):
            raise bad_request("can't parse commands JSON object")
        with self.changed:
            self.commands = commands
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802
        with self.changed:
            return list(self.commands)

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:  # noqa: N802
        with self.changed:
            self.commands = []
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:  # noqa: N802
        url = str(params.get("url") or "")
        secret = str(params.get("secret_token") or "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        with self.changed:
            self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
            if str(params.get("drop_pending_updates")).lower() == "true":
                self.updates = []
            self.changed.notify_all()
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:  # noqa: N802
        with self.changed:
            self.webhook = {"url": ""}
            if str(params.get("drop_pending_updates")).lower() == "true":
                self.updates = []
            self.changed.notify_all()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        with self.changed:
            return {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    def _api_logOut(self, params: dict[str, Any]) -> bool:  # noqa: N802
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True
