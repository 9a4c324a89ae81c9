"""Pinned adaptations of Rasa's own code where Rasa offers no option: each removes work that need not
run on every turn, and none changes what Rasa accepts, rejects or answers.

Applied by bot/rasa/server.py before Rasa starts, unless GOVQA_RASA_SPEEDUPS=0 (benchmarks measure
both ways in one run: benchmarks/bench_turn_cpu.py). Each adaptation names the exact library
versions it was read against (requirements/rasa.txt); on any other version it refuses, logs a
warning and leaves Rasa untouched, so a Rasa upgrade can never run a patch written for other code.

1. ``RemoteAction._validate_action_result`` (rasa/core/actions/action.py, Rasa 3.6.21) calls
   ``jsonschema.validate(result, schema)`` on every action server response. jsonschema 4.17's
   ``validate`` first checks the schema against its metaschema (``cls.check_schema``), and Rasa's
   events schema is large: py-spy put ~30% of the Rasa server's CPU under load in that re-check
   (issue 14). The schema is a constant (``action_response_format_spec`` is a static method that
   returns the same structure every time), so it is checked once and compiled into one validator;
   each response is then validated exactly as ``jsonschema.validate`` does it: the same validator
   class (``validator_for``), the same error (``best_match`` over ``iter_errors``), the same
   message suffix Rasa adds, the same exception (``jsonschema.ValidationError``) re-raised.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENABLE_ENV = "GOVQA_RASA_SPEEDUPS"  # "0" leaves Rasa exactly as installed
PINS_FILE = Path(__file__).resolve().parents[2] / "requirements" / "rasa.txt"
# The distributions whose code the adaptations below were read against.
PINNED_PACKAGES = ("rasa", "jsonschema")
_MARK = "__govqa_speedup__"  # set on our replacement functions: applying twice is a no-op


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(ENABLE_ENV, "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def pinned_versions(pins_file: Path = PINS_FILE) -> dict[str, str]:
    """{package: version} for PINNED_PACKAGES, from the exact pins in requirements/rasa.txt."""
    found: dict[str, str] = {}
    for line in pins_file.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)", line)
        if match and match.group(1).lower() in PINNED_PACKAGES:
            found[match.group(1).lower()] = match.group(2)
    return found


def installed_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for name in PINNED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    import rasa  # the version Rasa reports about itself, which is what its code is

    found["rasa"] = str(rasa.__version__)
    return found


def version_mismatches(pins_file: Path = PINS_FILE) -> list[str]:
    """'rasa 3.7.0 (pinned 3.6.21)' for every pinned package whose installed version differs."""
    try:
        pinned = pinned_versions(pins_file)
    except OSError as error:
        return [f"{pins_file} unreadable ({error})"]
    installed = installed_versions()
    return [f"{name} {installed.get(name)} (pinned {pinned.get(name, 'nowhere')})"
            for name in PINNED_PACKAGES if pinned.get(name) != installed.get(name)]


# --- 1. the action response schema, checked once -------------------------------------------------
_validators: dict[Callable[[], dict[str, Any]], Any] = {}


def _compiled_validator(spec: Callable[[], dict[str, Any]]) -> Any:
    """A jsonschema validator for spec()'s schema, built (and the schema checked) on first use.

    What jsonschema.validate does before validating, done once per schema function: pick the
    validator class for the schema's $schema (the latest draft when absent), check the schema
    against its metaschema (raises SchemaError, as validate would, and then nothing is cached)."""
    validator = _validators.get(spec)
    if validator is None:
        from jsonschema.validators import validator_for

        schema = spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[spec] = cls(schema)
    return validator


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result of Rasa 3.6.21 with a validator compiled once."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import DOCS_BASE_URL

    try:
        # type(self).action_response_format_spec: the static method itself, a stable cache key
        # (a subclass overriding it gets a validator of its own).
        error = best_match(_compiled_validator(type(self).action_response_format_spec).iter_errors(result))
        if error is not None:
            raise error
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


setattr(_validate_action_result, _MARK, True)


def apply(environ: Mapping[str, str] | None = None, *, pins_file: Path = PINS_FILE) -> bool:
    """Install the adaptations into the imported Rasa; False (with a log line) when they were not."""
    if not enabled(environ):
        logger.info("Rasa speedups off (%s=0): Rasa runs as installed", ENABLE_ENV)
        return False
    mismatches = version_mismatches(pins_file)
    if mismatches:
        logger.warning("Rasa speedups NOT applied, Rasa left untouched: they were written for the versions pinned in "
                       "requirements/rasa.txt, installed are %s", ", ".join(mismatches))
        return False
    from rasa.core.actions.action import RemoteAction

    if not getattr(RemoteAction._validate_action_result, _MARK, False):
        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    logger.info("Rasa speedups applied: action responses validated with a schema compiled once")
    return True


def applied() -> bool:
    from rasa.core.actions.action import RemoteAction

    return bool(getattr(RemoteAction._validate_action_result, _MARK, False))
