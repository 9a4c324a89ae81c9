"""The action server: rasa-sdk's app, on 127.0.0.1, with the knowledge base loaded before it serves.

`rasa run actions` always listens on 0.0.0.0 and has no start hook; building the app ourselves
lets us bind the configured interface and load the model and index once, in the server's start
hook (never at import: ../shared/NOTES.md), warmed up before the port opens.

    python -m actions.server                # host and port from settings.yml
    python -m actions.server --port 5056
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from actions import knowledge_service
from knowledge.index.store import IndexStore, IndexStoreError
from knowledge.settings import load_settings

logger = logging.getLogger("actions.server")


def build_app() -> Sanic:
    """The rasa-sdk Sanic app with our actions registered and the knowledge loaded at start."""
    executor = ActionExecutor()
    executor.register_package("actions.actions")
    app = create_app(executor, cors_origins=[])

    @app.before_server_start
    async def load_knowledge(_app: Sanic) -> None:
        knowledge_service.start()

    @app.after_server_stop
    async def stop_watcher(_app: Sanic) -> None:
        knowledge_service.stop()

    return app


def main() -> None:
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
    app = build_app()
    logger.info("动作服务器启动于 http://%s:%d（索引 %s）", args.host, args.port, version)
    # One process: the model is loaded once; retrieval is ~15 ms, well inside one worker's reach.
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
