"""Start Rasa's server with its HTTP API token from the environment instead of the command line.

`rasa run --auth-token X` puts the token in the process's command line, which every local user can
read (`ps`, /proc/<pid>/cmdline). The launcher starts this module instead; it adds the token from
GOVQA_RASA_TOKEN to Rasa's own arguments inside the process (the kernel's copy of the command
line keeps what was executed) and calls Rasa's own entry point, so Rasa behaves exactly as
`rasa run` does.

Before Rasa starts, bot/rasa/speedups.py removes per-turn work Rasa need not do (pinned to the
Rasa version in requirements/rasa.txt; GOVQA_RASA_SPEEDUPS=0 leaves Rasa as installed).

    GOVQA_RASA_TOKEN=… var/venv-rasa/bin/python -m bot.rasa.server run --model models/x.tar.gz --enable-api
"""

from __future__ import annotations

import os
import sys

from knowledge.records.logs import private_process

TOKEN_ENV = "GOVQA_RASA_TOKEN"


def rasa_arguments(arguments: list[str], token: str) -> list[str]:
    """Rasa's command line: `arguments` and the API token, if any, as one `--auth-token=…` word.

    One word, because a generated token may start with "-" (token_urlsafe draws from A-Z a-z 0-9 - _):
    as a separate word argparse reads it as an option and Rasa exits with code 2, about one start in 64."""
    return ["rasa", *arguments, *([f"--auth-token={token}"] if token else [])]


def main() -> None:
    from rasa.__main__ import main as rasa_main  # imported here: Rasa's import is slow and noisy

    private_process()  # before Rasa logs anything: masked, escaped log lines; files 600
    sys.argv = rasa_arguments(sys.argv[1:], os.environ.pop(TOKEN_ENV, ""))
    from bot.rasa import speedups

    # Rasa has not configured logging yet: say on stderr (the Rasa log) what runs.
    state = "applied" if speedups.apply() else "off" if not speedups.enabled() else "refused (version)"
    print(f"govqa: Rasa speedups {state}", file=sys.stderr, flush=True)
    rasa_main()


if __name__ == "__main__":
    main()
