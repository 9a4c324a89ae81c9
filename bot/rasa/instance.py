"""One of several Rasa servers behind HAProxy (bot/launcher/balancer.py): stops without losing a request.

A plain SIGTERM makes Sanic close its listening socket at once. Connections HAProxy has opened in that
instant are already accepted by the kernel (in the listen backlog) but never by Sanic: they are reset,
after HAProxy has sent the request, and HAProxy must not retry those (it cannot know the message was not
processed), so the user gets a 502. Measured: 4 of ~200 requests under a 20-user load.

So on SIGTERM this server first leaves the balancer: its health check (`/`) answers 503 while it keeps
serving whatever still arrives; after BALANCER_DRAIN_SECONDS (long enough for HAProxy's checks to take
it out) it stops the way Rasa always does, finishing the requests it holds.

    BALANCER_DRAIN_SECONDS=3 var/venv-rasa/bin/python -m bot.rasa.instance run --model … (as bot.rasa.server)
"""

from __future__ import annotations

import os
import signal
from typing import Any

DRAIN_ENV = "BALANCER_DRAIN_SECONDS"


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
    install(float(os.environ.get(DRAIN_ENV, "3")))
    from bot.rasa.server import main as server_main

    server_main()


if __name__ == "__main__":
    main()
