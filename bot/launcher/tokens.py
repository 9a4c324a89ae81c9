"""The launcher's tokens: each from the environment, else generated once into var/secrets/ (mode 600)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

from knowledge.settings import Settings
from protocol import ACTION_TOKEN_ENV, ACTION_TOKEN_FILE, REST_TOKEN_ENV, REST_TOKEN_FILE, STAFF_TOKEN_ENV, STAFF_TOKEN_FILE

TOKEN_ENV = "GOVQA_RASA_TOKEN"
KEFU_TOKEN_ENV = "KEFU_API_TOKEN"


def secret(settings: Settings, env_name: str, file_name: str, env: Mapping[str, str] | None = None) -> str:
    """A token from the environment, else generated once into var/secrets/<file_name> (mode 600)."""
    token = (env if env is not None else os.environ).get(env_name)
    if token:
        return token
    path = settings.secrets_dir / file_name
    if not path.exists():
        settings.secrets_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def rasa_token(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """Rasa's HTTP API token (GOVQA_RASA_TOKEN, else var/secrets/rasa_token)."""
    return secret(settings, TOKEN_ENV, "rasa_token", env)


def rest_token(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The channels' token for Rasa's REST channel (GOVQA_REST_TOKEN, else var/secrets/rest_token)."""
    return secret(settings, REST_TOKEN_ENV, REST_TOKEN_FILE, env)


def action_token(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """Rasa's token for the action server (GOVQA_ACTION_TOKEN, else var/secrets/action_token)."""
    return secret(settings, ACTION_TOKEN_ENV, ACTION_TOKEN_FILE, env)


def kefu_token(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The hall API's bearer token (KEFU_API_TOKEN, else var/secrets/kefu_token)."""
    return secret(settings, KEFU_TOKEN_ENV, "kefu_token", env)


def staff_token(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The staff desk's token (KEFU_STAFF_TOKEN, else var/secrets/kefu_staff_token): clerks only, never citizens."""
    return secret(settings, STAFF_TOKEN_ENV, STAFF_TOKEN_FILE, env)
