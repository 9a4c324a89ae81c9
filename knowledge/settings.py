"""The project's configuration: `settings.yml` at the repository root, overridable by environment.

Usage::

    from knowledge.settings import load_settings

    settings = load_settings()
    settings.index_dir          # absolute Path
    settings.lexical_weight     # float
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "settings.yml"
ENV_PREFIX = "GOVQA_"


@dataclass(frozen=True)
class Settings:
    guides_dir: Path
    documents_dir: Path
    var_dir: Path
    index_dir: Path
    embedding_cache: Path
    reports_dir: Path
    embedding_model: str
    embedding_batch_size: int
    embedding_lowercase: bool
    embedding_light_max_texts: int
    query_embedding_cache_size: int
    query_engine: str
    out_of_scope_file: Path
    dense_candidates: int
    lexical_weight: float
    best_chunk_weight: float
    max_hits: int
    alias_bonus: float
    name_pairs_bonus: float
    item_vector_weight: float
    item_words_share: float
    item_words_min_guides: int
    calibration_unknown_answered: float
    scope_answer_probability: float
    calibration_confirm_offtopic: float
    calibration_inscope_not_found: float
    sole_words_answer_share: float
    sole_words_everyday_idf: float
    sole_words_in_scope: float
    ambiguity_margin: float
    ambiguity_coverage_share: float
    max_candidates: int
    gate_max_drop: float
    gate_new_guides_top1: float
    gate_top1: float
    gate_offtopic_answered_max: float
    eval_questions: Path
    rasa_host: str
    rasa_port: int
    action_host: str
    action_port: int
    rasa_instances: int
    action_instances: int
    database_url: str
    redis_url: str
    models_dir: Path
    tracker_db: Path
    records_db: Path
    secrets_dir: Path
    index_poll_seconds: float
    context_switch_probability: float
    context_keep_margin: float
    context_stay_unless_answered: bool
    out_of_scope_override_probability: float
    nlu_runner_up_share: float
    context_opening_seconds: float
    context_hold_share: float
    near_miss_margin: float
    near_miss_probability: float
    related_passage_level: float
    hotline: str
    example_questions: tuple[str, ...]
    nlu_folds: int
    nlu_target_macro_f1: float
    nlu_target_out_of_scope_recall: float
    kefu_host: str
    kefu_port: int
    kefu_cors_origins: str
    kefu_max_body_bytes: int
    kefu_public: bool
    kefu_public_session_per_minute: int
    kefu_public_client_per_minute: int
    kefu_session_seconds: int
    message_max_chars: int
    rasa_timeout_seconds: float
    rasa_retries: int
    telegram_mode: str
    telegram_webhook_host: str
    telegram_webhook_port: int
    telegram_webhook_url: str
    staff_hours: str
    staff_timezone: str
    desk_poll_seconds: float
    report_low_confidence_odds: float
    retention_days: int

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (tests point paths at temporary folders)."""
        return dataclasses.replace(self, **changes)


def _coerce(name: str, raw: Any, target: type | str) -> Any:
    kind = target if isinstance(target, str) else target.__name__
    if kind == "Path":
        path = Path(str(raw))
        return path if path.is_absolute() else ROOT / path
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "tuple[str, ...]":
        # A YAML list; from the environment, one string with the items separated by "|".
        items = raw.split("|") if isinstance(raw, str) else list(raw or ())
        return tuple(str(item).strip() for item in items if str(item).strip())
    return str(raw)


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read settings.yml, then GOVQA_* environment variables, then explicit overrides."""
    source = path or SETTINGS_FILE
    with open(source, encoding="utf-8") as handle:
        values: dict[str, Any] = yaml.safe_load(handle) or {}
    fields = {field.name: field.type for field in dataclasses.fields(Settings)}
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"{source}: 未知配置项 {sorted(unknown)}")
    for name in fields:
        env_value = os.environ.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = env_value
    values.update(overrides)
    missing = set(fields) - set(values)
    if missing:
        raise ValueError(f"{source}: 缺少配置项 {sorted(missing)}")
    return Settings(**{name: _coerce(name, values[name], fields[name]) for name in fields})
