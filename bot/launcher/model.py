"""The trained Rasa model: named by a fingerprint of everything it is trained from (config, domain, data,
our Rasa components), so it is trained once per change; the guides are not part of it (no retraining)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import time
from pathlib import Path

import yaml

from bot.launcher.processes import CHILD_ENV, RASA, StackError
from knowledge.settings import ROOT, Settings, load_settings

# Everything the trained model depends on, besides our own pipeline components (read from
# config.yml by model_inputs()). Guides are deliberately absent.
MODEL_INPUTS = ("config.yml", "domain.yml", "data", "requirements/rasa.txt")


def model_inputs(project: Path = ROOT) -> list[str]:
    """MODEL_INPUTS of a Rasa project folder (this one, or e.g. the benchmark's floor project), relative to
    ROOT, plus the source file of every custom component its config.yml names (bot.x.Y)."""
    with open(project / "config.yml", encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    components = [step["name"] for step in config.get("pipeline") or [] if "." in step["name"]]
    folder = project.relative_to(ROOT)
    own = [name if name.startswith("requirements/") else str(folder / name) for name in MODEL_INPUTS]
    return [*own, *sorted({name.rsplit(".", 1)[0].replace(".", "/") + ".py" for name in components})]


def model_fingerprint(project: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for name in model_inputs(project):
        path = ROOT / name
        files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_model(settings: Settings | None = None, *, log: Path | None = None, project: Path = ROOT,
                 models_dir: Path | None = None) -> Path:
    """The trained model for the current inputs of `project`; trains it first if there is none (~2-4 min)."""
    settings = settings or load_settings()
    models_dir = models_dir or settings.models_dir
    fingerprint = model_fingerprint(project)
    model = models_dir / f"{fingerprint}.tar.gz"
    if model.exists():
        return model
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two `make run`s or test sessions never train at once
        if model.exists():
            return model
        print(f"→ 训练 Rasa 模型（配置或训练数据有变化，约 2-4 分钟）：{model.name}", flush=True)
        started = time.monotonic()
        if log:
            log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Private like every log (whatever the caller's umask): 600, truncated for this training.
        output = os.fdopen(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") if log else None
        try:
            done = subprocess.run(
                [str(RASA), "train", "--config", str(project / "config.yml"), "--domain", str(project / "domain.yml"),
                 "--data", str(project / "data"), "--out", str(models_dir), "--fixed-model-name", fingerprint],
                cwd=ROOT, env={**os.environ, **CHILD_ENV}, stdout=output, stderr=subprocess.STDOUT if output else None,
            )
        finally:
            if output:
                output.close()
        if done.returncode != 0 or not model.exists():
            raise StackError(f"Rasa 模型训练失败（退出码 {done.returncode}）" + (f"，日志：{log}" if log else ""))
        print(f"✓ 模型训练完成，用时 {time.monotonic() - started:.0f} 秒", flush=True)
    return model
