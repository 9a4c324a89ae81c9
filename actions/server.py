"""The action server: rasa-sdk's app, on 127.0.0.1, with the knowledge base loaded before it serves.

`rasa run actions` always listens on 0.0.0.0 and has no start hook; building the app ourselves
lets us bind the configured interface and load the model and index once, in the server's start
hook (never at import: ../shared/NOTES.md), warmed up before the port opens.

    python -m actions.server                # host and port from settings.yml
    python -m actions.server --port 5056

`GET /health` (no token) answers `{"status": "ok", "index_version": "…"}`: which published version this
server answers from (several action servers behind HAProxy switch to a new one within
`index_poll_seconds` of each other). Behind HAProxy (`BALANCER_DRAIN_SECONDS` set by the launcher) a
SIGTERM first makes /health answer 503 for that many seconds while the server keeps answering what
still arrives, then stops it: no action call is cut off by a stopping server (the same as Rasa's
instances, bot/rasa/instance.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.actions import all_actions
from actions.services import Services
from knowledge.index.store import IndexStore, IndexStoreError
from knowledge.records.logs import Public, private_process
from knowledge.settings import Settings, load_settings
from protocol import ACTION_TOKEN_ENV, DRAIN_ENV, bearer_matches

logger = logging.getLogger("actions.server")


def build_app(settings: Settings, *, drain_seconds: float = 0.0) -> Sanic:
    """The rasa-sdk Sanic app with our actions registered and the knowledge loaded at start; with
    `drain_seconds`, a SIGTERM drains (fails /health, keeps serving) that long before stopping."""
    services = Services.from_settings(settings)
    executor = ActionExecutor()
    for action in all_actions(services):
        executor.register_action(action)
    app = create_app(executor, cors_origins=[])
    token = os.environ.get(ACTION_TOKEN_ENV, "")
    if not token:
        logger.error("未设置 %s：动作服务器拒绝所有调用（请用 make run 启动，它会生成并传入令牌）", ACTION_TOKEN_ENV)

    draining = False

    @app.on_request
    async def only_rasa(request: Request) -> HTTPResponse | None:
        """Only Rasa, with the token of endpoints.yml, runs actions; a bad body is a 400, never a 500."""
        if request.path == "/health":
            if draining:
                return response.json({"status": "draining"}, status=503)
            return response.json({"status": "ok", "index_version": services.knowledge.version})
        if not bearer_matches(request.headers.get("Authorization"), token):
            return _error(401, "缺少令牌或令牌无效", {"WWW-Authenticate": "Bearer"})
        if request.method == "POST":
            problem = call_problem(request)
            if problem:
                return _error(400, problem)
        return None

    @app.before_server_start
    async def load_knowledge(_app: Sanic) -> None:
        services.knowledge.start()

    if drain_seconds > 0:

        @app.after_server_start
        async def drain_on_sigterm(app: Sanic) -> None:
            # Sanic installs its own SIGTERM handler (stop now) just before this hook runs: ours replaces it.
            def drain() -> None:
                nonlocal draining
                if not draining:
                    draining = True
                    logger.info("收到停止信号：%.0f 秒后停止（先退出负载均衡）", drain_seconds)
                    app.loop.call_later(drain_seconds, app.stop)

            app.loop.add_signal_handler(signal.SIGTERM, drain)

    @app.after_server_stop
    async def stop_watcher(_app: Sanic) -> None:
        services.knowledge.stop()
        services.records.wait()

    return app


def _error(status: int, error: str, headers: dict[str, str] | None = None) -> HTTPResponse:
    # Never an echo of the request: it may hold a user's message.
    return response.json({"error": error}, status=status, headers=headers)


def call_problem(request: Request) -> str | None:
    """What is wrong with an action call's body (None when it is what Rasa sends)."""
    if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
        return "只接受 application/json"
    try:
        body = request.json
    except Exception:  # sanic raises its own BadRequest for malformed JSON
        return "请求体不是合法的 JSON"
    if not isinstance(body, dict) or not isinstance(body.get("next_action"), str):
        return "请求体必须是含 next_action 和 tracker 的 JSON 对象"
    tracker = body.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        return "tracker 缺失或格式不对"
    latest = tracker.get("latest_message") or {}
    if not isinstance(latest, dict) or not isinstance(latest.get("text") or "", str):
        return "tracker.latest_message.text 必须是字符串"
    if not isinstance(tracker.get("slots") or {}, dict) or not isinstance(tracker.get("events") or [], list):
        return "tracker 的 slots 或 events 格式不对"
    return None


def main() -> None:
    private_process()
    settings = load_settings()
    parser = argparse.ArgumentParser(description="政务服务助手的动作服务器（rasa-sdk）")
    parser.add_argument("--host", default=settings.action_host)
    parser.add_argument("--port", type=int, default=settings.action_port)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("sanic.access").setLevel(logging.WARNING)
    try:
        # Cheap checks first (checksums, no model): a missing or corrupt index stops the server
        # with a message an admin can act on, instead of a trace or answers from garbage.
        version = IndexStore(settings.index_dir).verify()
    except IndexStoreError as error:
        logger.error("无法启动：%s", error)
        raise SystemExit(1) from None
    app = build_app(settings, drain_seconds=float(os.environ.get(DRAIN_ENV) or 0))
    logger.info("动作服务器启动于 http://%s:%d（索引 %s）", args.host, args.port, Public(version))
    # One process: the model is loaded once; retrieval is ~15 ms, well inside one worker's reach.
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
