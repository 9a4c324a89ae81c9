"""The running assistant for end-to-end tests: a real action server, a real Rasa server (the
trained model from var/models, trained first if missing) and the hall API, on free ports, over a
private copy of the knowledge base with its own index, tracker store and records database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.launcher.stack import Stack
from knowledge.index.builder import build_index
from knowledge.index.embedding import Embedder
from knowledge.settings import Settings, load_settings
from tests.support import DOCUMENTS, GUIDES, Chat, free_port, settings_env

STAFF_TOKEN = "test-staff-token"


@dataclass
class Assistant:
    stack: Stack
    settings: Settings
    counter: int = 0

    def chat(self, name: str = "user") -> Chat:
        """A new conversation (a new sender id)."""
        self.counter += 1
        # "test-…": the admin report leaves test traffic out (protocol.TEST_SENDER_PREFIXES)
        return Chat(self.stack.rest_url, f"test-{name}-{self.counter}", self.stack.rest_headers)


@contextmanager
def running_assistant(root: Path, embedder: Embedder, *, extra_env: Mapping[str, str] | None = None,
                      instance_ports: list[int] | None = None, action_ports: list[int] | None = None) -> Iterator[Assistant]:
    """Start the whole stack over a private copy of the knowledge base under root; stop it after.
    `extra_env` adds settings (e.g. the scale-out tests' stores, GOVQA_RASA_INSTANCES and GOVQA_ACTION_INSTANCES)."""
    shutil.copytree(GUIDES, root / "guides")
    shutil.copytree(DOCUMENTS, root / "documents")
    settings = load_settings(guides_dir=root / "guides", documents_dir=root / "documents", index_dir=root / "index",
                             reports_dir=root / "reports", records_db=root / "records.sqlite3",
                             tracker_db=root / "tracker.sqlite3", index_poll_seconds=0.5)
    build_index(settings, embedder=embedder)
    env = settings_env(settings)
    env.update({"GOVQA_RECORDS_DB": str(settings.records_db), "GOVQA_TRACKER_DB": str(settings.tracker_db),
                "GOVQA_INDEX_POLL_SECONDS": "0.5"})
    env["KEFU_API_TOKEN"] = "test-kefu-token"
    env["KEFU_STAFF_TOKEN"] = STAFF_TOKEN  # the staff desk's own token (tests/e2e/test_staff_desk.py)
    env["TELEGRAM_BOT_TOKEN"] = ""  # never poll a real bot from tests, whatever the developer's shell has
    stack = Stack(ports=(free_port(), free_port()), kefu_port=free_port(), env={**env, **(extra_env or {})}, logs=Path(root / "logs"),
                  instance_ports=instance_ports, action_ports=action_ports)
    stack.start()
    try:
        yield Assistant(stack, stack.settings)
    finally:
        stack.stop()
