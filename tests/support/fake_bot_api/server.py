"""FakeBotApi: the HTTP server speaking the Bot API's interface (``POST /bot<token>/<method>`` with
form, JSON or query parameters, ``{"ok": true, "result": …}`` or the error), dispatching to the
methods, with the user's side for the tests (see the package docstring)."""

from __future__ import annotations

import contextlib
import json
import re
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlparse

from tests.support import serve_http, stop_http
from tests.support.fake_bot_api.errors import ApiError, bad_request
from tests.support.fake_bot_api.methods import BotApiMethods
from tests.support.fake_bot_api.user_side import UserSide

JSON_PARAMETERS = {"reply_markup", "allowed_updates", "commands", "scope", "link_preview_options", "entities",
                   "reply_parameters"}


class FakeBotApi(UserSide, BotApiMethods):
    """The fake server plus the helpers tests use to play the user (see the package docstring)."""

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
                delays = self.delays.get(method)
                delay = delays.pop(0) if delays else 0.0
            time.sleep(delay)  # outside the lock: other requests go on meanwhile
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
