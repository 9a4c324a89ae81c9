"""A local fake of Telegram's Bot API server, for running the real python-telegram-bot client.

Telegram's servers cannot be reached from here, and PTB can point at any Bot API server
(``ApplicationBuilder().base_url(...)``, as a self-hosted ``telegram-bot-api`` server is used).
This server speaks the Bot API's HTTP interface: ``POST /bot<token>/<method>`` with form, JSON or
query parameters, answers ``{"ok": true, "result": …}`` with Message/User/Chat objects, and errors
as ``{"ok": false, "error_code": 400, "description": "Bad Request: …"}`` as Telegram words them.
It is strict where a real server is: callback_data 1-64 bytes, text 1-4096 characters after entity
parsing, well-formed HTML with only Telegram's tags, messages only to chats it knows, a callback
query answered once, "message is not modified" for an edit that changes nothing, getUpdates
refused while a webhook is set (a long poll waiting when it is set ends with 409 Conflict).

Implemented: getMe, getUpdates (long polling with timeout and offset), sendMessage, sendChatAction,
answerCallbackQuery, editMessageReplyMarkup, setMyCommands, getMyCommands, deleteMyCommands,
setWebhook (updates are then POSTed to the webhook with X-Telegram-Bot-Api-Secret-Token),
deleteWebhook, getWebhookInfo, logOut, close.

Usage::

    with FakeBotApi() as api:                        # listens on 127.0.0.1:<free port>
        env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url}
        ...start the bot...
        mark = api.mark(42)
        api.user_says(42, "开办企业需要什么材料")
        # The Message objects the bot sent to chat 42 since the mark, once one carries a keyboard:
        replies = api.wait_messages(42, since=mark, until=lambda messages: "reply_markup" in messages[-1])
        api.click(42, replies[-1], "好评")          # a callback_query update for that button: [its id]

Waiting is for a definite end (a number of messages, a message with a keyboard), never for a
quiet period: on a loaded machine the messages of one reply can be seconds apart.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from tests.support import serve_http, stop_http

JSON_PARAMETERS = {"reply_markup", "allowed_updates", "commands", "scope", "link_preview_options", "entities",
                   "reply_parameters"}
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
ENTITY_TYPES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
                "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "code": "code", "pre": "pre",
                "a": "text_link", "tg-spoiler": "spoiler", "span": "spoiler", "blockquote": "blockquote", "tg-emoji": "custom_emoji"}
MESSAGE_LIMIT = 4096
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def bad_request(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>|&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities (UTF-16 offsets), or ApiError."""
    text: list[str] = []
    units = 0
    entities: list[dict[str, Any]] = []
    open_tags: list[tuple[str, int, dict[str, Any]]] = []
    position = 0

    def plain(chunk: str, at: int) -> None:
        nonlocal units
        for offset, char in enumerate(chunk):
            if char in "<&":  # Telegram: every <, > and & that is not markup must be escaped
                what = "start tag" if char == "<" else "entity"
                raise bad_request(f"can't parse entities: Unsupported {what} at byte offset {len(source[:at + offset].encode())}")
        text.append(chunk)
        units += utf16_len(chunk)

    for match in _HTML_TOKEN.finditer(source):
        plain(source[position:match.start()], position)
        position = match.end()
        closing, tag, attributes, entity = match.group(1), (match.group(2) or "").lower(), match.group(3) or "", match.group(4)
        byte_offset = len(source[:match.start()].encode())
        if entity is not None:
            if entity.startswith("#"):
                char = chr(int(entity[2:], 16) if entity[1] in "xX" else int(entity[1:]))
            elif entity in _NAMED_ENTITIES:
                char = _NAMED_ENTITIES[entity]
            else:
                raise bad_request(f"can't parse entities: Unsupported HTML entity \"&{entity};\" at byte offset {byte_offset}")
            text.append(char)
            units += utf16_len(char)
        elif tag not in ENTITY_TYPES:
            raise bad_request(f"can't parse entities: Unsupported start tag \"{tag}\" at byte offset {byte_offset}")
        elif not closing:
            extra: dict[str, Any] = {}
            if tag == "a":
                href = re.search(r'href\s*=\s*"([^"]*)"', attributes)
                extra = {"url": href.group(1)} if href else {}
            open_tags.append((tag, units, extra))
        else:
            if not open_tags or open_tags[-1][0] != tag:
                raise bad_request(f"can't parse entities: Unexpected end tag at byte offset {byte_offset}")
            _tag, start, extra = open_tags.pop()
            if units > start:
                entities.append({"type": ENTITY_TYPES[tag], "offset": start, "length": units - start, **extra})
    plain(source[position:], position)
    if open_tags:
        raise bad_request(f"can't parse entities: Can't find end tag corresponding to start tag \"{open_tags[-1][0]}\"")
    return "".join(text), sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))


def check_keyboard(markup: Any) -> dict[str, Any] | None:
    """An InlineKeyboardMarkup as Telegram validates it (None for no markup)."""
    if markup is None:
        return None
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an Object with inline_keyboard")
    for row in markup["inline_keyboard"]:
        if not isinstance(row, list):
            raise bad_request("can't parse inline keyboard button: Field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif "url" not in button:
                raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must have exactly one of the optional fields")
    return markup


class FakeBotApi:
    """The fake server plus the helpers tests use to play the user (see the module docstring)."""

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
        self.refused: list[tuple[str, dict[str, Any], str]] = []  # (method, parameters, error) of requests refused
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as httpx uses it

            def do_GET(self) -> None:
                api._serve(self)

            def do_POST(self) -> None:
                api._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read what the bot did, not access logs
                pass

        self._server = serve_http(Handler)
        return self

    def stop(self) -> None:
        if self._server is not None:
            stop_http(self._server)
            self._server = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL is set to (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

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

    def click(self, chat_id: int, message: dict[str, Any], title_part: str, taps: int = 1) -> list[str]:
        """The user presses the button whose title contains `title_part` on `message` (as it is now),
        `taps` times in a row before the bot can react (a double tap): the callback query ids.

        All taps are queued at once, so the bot fetches them together and handles them concurrently.
        """
        with self.changed:
            current = self.messages[(chat_id, message["message_id"])]
            buttons = [b for row in (current.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
            found = [b for b in buttons if title_part in b["text"]]
            assert found, f"no button {title_part!r} on message {message['message_id']}: {[b['text'] for b in buttons]}"
            query_ids = []
            for _tap in range(taps):
                query_id = str(4000000000000000000 + self.next_update_id)
                self.callback_queries[query_id] = {"answered": None}
                self._push({"callback_query": {"id": query_id, "from": self.users[chat_id], "message": copy.deepcopy(current),
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

    # --- the server ---------------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", url.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""  # read first: the connection is kept alive
        try:
            if match is None:
                raise ApiError(404, "Not Found")
            if match.group(1) != self.token:
                raise ApiError(401, "Unauthorized")
            params = self._parameters(request, url.query, body)
            method = match.group(2)
            with self.changed:
                self.calls.append((method, params))
                self.changed.notify_all()
                injected = self.failures.get(method)
                if injected:
                    raise injected.pop(0)
            handler = getattr(self, "_api_" + method[0].lower() + method[1:], None)
            if handler is None:
                raise ApiError(404, "Not Found")
            try:
                status, body = 200, {"ok": True, "result": handler(params)}
            except ApiError as error:  # what the bot sent is wrong (not an injected failure): tests look at these
                with self.changed:
                    self.refused.append((method, params, error.description))
                raise
        except ApiError as error:
            status, body = error.code, {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with contextlib.suppress(ConnectionError):  # the bot stopped while its long poll was waiting
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)

    @staticmethod
    def _parameters(request: BaseHTTPRequestHandler, query: str, body: bytes) -> dict[str, Any]:
        params: dict[str, Any] = dict(parse_qsl(query))
        kind = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if body and kind == "application/json":
            params.update(json.loads(body))
            return params
        if body and kind == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif body and kind == "multipart/form-data":
            message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name and not part.get_filename():
                    params[name] = part.get_content()
        elif body:
            raise bad_request(f"unsupported Content-Type {kind}")
        # Form fields are strings; objects and arrays arrive JSON-encoded, as PTB and the docs send them.
        for name in JSON_PARAMETERS & set(params):
            if isinstance(params[name], str):
                try:
                    params[name] = json.loads(params[name])
                except ValueError as error:
                    raise bad_request(f"can't parse {name} JSON object") from error
        return params

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

    def _user_message(self, chat_id: int, user_id: int | None = None, **content: Any) -> dict[str, Any]:
        with self.changed:
            user_id = user_id or chat_id
            if user_id not in self.users:
                self.add_user(user_id)
            return {"message_id": self._new_message_id(chat_id), "from": self.users[user_id], "chat": self.chats[chat_id],
                    "date": int(time.time()), **content}

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
