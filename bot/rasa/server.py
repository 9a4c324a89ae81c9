"""Start Rasa's server with its HTTP API token from the environment instead of the command line.

`rasa run --auth-token X` puts the token in the process's command line, which every local user can
read (`ps`, /proc/<pid>/cmdline). The launcher starts this module instead; it adds the token from
GOVQA_RASA_TOKEN to Rasa's own arguments inside the process (the kernel's copy of the command
line keeps what was executed) and calls Rasa's own entry point, so Rasa behaves exactly as
`rasa run` does.

    GOVQA_RASA_TOKEN=… var/venv-rasa/bin/python -m bot.rasa.server run --model models/x.tar.gz --enable-api
"""

from __future__ import annotations

import os
import sys

from knowledge.records.logs import private_process

TOKEN_ENV = "GOVQA_RASA_TOKEN"


def main() -> None:
    from rasa.__main__ import main as rasa_main  # imported here: Rasa's import is slow and noisy

    private_process()  # before Rasa logs anything: masked, escaped log lines; files 600
    token = os.environ.pop(TOKEN_ENV, "")
    sys.argv = ["rasa", *sys.argv[1:], *(["--auth-token", token] if token else [])]
    rasa_main()


if __name__ == "__main__":
    main()
