"""The floor project's action server: rasa-sdk with one action that replies with a fixed text.

Built like actions/server.py (rasa-sdk's own app, one process, on 127.0.0.1: `rasa run actions`
always listens on 0.0.0.0) but with nothing else: no knowledge, no records, no token check, so
its cost per call is rasa-sdk's own (parse the tracker, run the action, answer).

    var/venv-app/bin/python -m benchmarks.floor.actions --port 5056
"""

from __future__ import annotations

import argparse
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

REPLY = "您好，这是基准测试的固定回答。"


class ActionReply(Action):
    def name(self) -> str:
        return "action_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=REPLY)
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    executor = ActionExecutor()
    executor.register_action(ActionReply())
    app = create_app(executor, cors_origins=[])
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
