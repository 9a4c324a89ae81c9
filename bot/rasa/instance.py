"""A Rasa server on shared stores (PostgreSQL, Redis), maybe one of several behind HAProxy.

The launcher starts this module instead of bot/rasa/server.py (which it then runs) whenever
`database_url` or `redis_url` is set. Two changes to Rasa's behaviour:

1. A tracker store that cannot be reached fails the turn. Rasa wraps every tracker store in a
   `FailSafeTrackerStore` that, on an error, carries on with an empty in-memory conversation: during a
   PostgreSQL restart it answered follow-ups without their context, kept those turns in one process's
   memory only, and could write a fresh session over the stored one once the database was back. Here the
   error propagates instead: the REST channel answers with its apology and the hotline
   (bot/rasa/rest_channel.py) and the conversation resumes with its context when the database is back.
   (A failure while saving after the answer was produced still delivers the answer; that turn is not stored.)

2. Behind HAProxy (BALANCER_DRAIN_SECONDS set) it stops without losing a request. A plain SIGTERM
makes Sanic close its listening socket at once. Connections HAProxy has opened in that
instant are already accepted by the kernel (in the listen backlog) but never by Sanic: they are reset,
after HAProxy has sent the request, and HAProxy must not retry those (it cannot know the message was not
processed), so the user gets a 502. Measured: 4 of ~200 requests under a 20-user load.

So on SIGTERM this server first leaves the balancer: its health check (`/`) answers 503 while it keeps
serving whatever still arrives; after BALANCER_DRAIN_SECONDS (long enough for HAProxy's checks to take
it out) it stops the way Rasa always does, finishing the requests it holds.

    BALANCER_DRAIN_SECONDS=5 var/venv-rasa/bin/python -m bot.rasa.instance run --model … (as bot.rasa.server)
"""

from __future__ import annotations

import os
import signal
from typing import Any

from protocol import DRAIN_ENV


class TrackerStoreUnavailableError(RuntimeError):
    pass


def fail_on_tracker_store_errors() -> None:
    """Make Rasa's FailSafeTrackerStore raise where it would fall back to an empty in-memory tracker."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    def fail(self: Any, error: Exception) -> None:
        raise TrackerStoreUnavailableError(f"对话存储不可用（{type(error).__name__}）") from error

    FailSafeTrackerStore.on_tracker_store_error = fail  # type: ignore[method-assign]
    FailSafeTrackerStore.on_tracker_store_retrieve_error = fail  # type: ignore[method-assign]


def install(seconds: float) -> None:
    """Make every Rasa server app built from now on drain for `seconds` on SIGTERM."""
    import rasa.core.run as rasa_run
    from sanic import response

    configure = rasa_run.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = configure(*args, **kwargs)
        draining = False

        @app.middleware("request")
        async def leave_the_balancer(request: Any) -> Any:
            if draining and request.path == "/":
                return response.json({"status": "draining"}, status=503)
            return None

        async def drain_on_sigterm(app: Any, loop: Any) -> None:
            # After Sanic's own handler is in place (after_server_start comes later), so this one wins.
            def drain() -> None:
                nonlocal draining
                if not draining:
                    draining = True
                    loop.call_later(seconds, app.stop)

            loop.add_signal_handler(signal.SIGTERM, drain)

        app.register_listener(drain_on_sigterm, "after_server_start")
        return app

    rasa_run.configure_app = configure_app  # serve_application looks it up at call time


def main() -> None:
    fail_on_tracker_store_errors()
    if os.environ.get(DRAIN_ENV):
        install(float(os.environ[DRAIN_ENV]))
    from bot.rasa.server import main as server_main

    server_main()


if __name__ == "__main__":
    main()
