"""NLU evaluation: k-fold cross-validation of config.yml's pipeline on data/nlu.yml.

    python -m bot.nlu_eval          # make eval-nlu; exit 1 when below the targets in settings.yml

Runs `rasa test nlu --cross-validation` (real training per fold, ~15-25 min on 2 cores) and
writes var/reports/nlu/<fingerprint>/ (Rasa's reports) plus summary.json. The result is kept
by the fingerprint of the model inputs: run again with unchanged data and config, and the kept
report is shown.

Macro-F1 is averaged over the domain's intents. A prediction below the FallbackClassifier's
threshold (nlu_fallback) counts as a miss for the true intent, but nlu_fallback is not itself
an intent and gets no F1 row of its own (Rasa's report would average in a 0 for it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import yaml

from bot.stack import CHILD_ENV, RASA, model_fingerprint
from knowledge.settings import ROOT, Settings, load_settings

FALLBACK = "nlu_fallback"


def domain_intents() -> list[str]:
    with open(ROOT / "domain.yml", encoding="utf-8") as handle:
        return list(yaml.safe_load(handle)["intents"])


def summarize(report: dict[str, Any], errors: list[dict[str, Any]], intents: list[str], settings: Settings) -> dict[str, Any]:
    """Macro-F1 over `intents`, out_of_scope recall, the weakest intents and the main confusions."""
    rows = {name: report[name] for name in intents if name in report}
    missing = sorted(set(intents) - set(rows))
    macro_f1 = sum(row["f1-score"] for row in rows.values()) / len(intents)  # an intent with no row counts as 0
    confusions: dict[str, int] = {}
    for error in errors:
        key = f"{error['intent']} → {error['intent_prediction']['name']}"
        confusions[key] = confusions.get(key, 0) + 1
    out_of_scope = rows.get("out_of_scope", {"recall": 0.0, "support": 0})
    summary = {
        "fingerprint": model_fingerprint(),
        "folds": settings.nlu_folds,
        "examples": int(sum(row["support"] for row in rows.values())),
        "intents": len(intents),
        "macro_f1": round(macro_f1, 4),
        "accuracy": round(report.get("accuracy", 0.0), 4),
        "out_of_scope_recall": round(out_of_scope["recall"], 4),
        "fallback_predictions": sum(1 for e in errors if e["intent_prediction"]["name"] == FALLBACK),
        "weakest": sorted(((name, round(row["f1-score"], 4)) for name, row in rows.items()), key=lambda item: item[1])[:5],
        "confusions": sorted(confusions.items(), key=lambda item: -item[1])[:10],
        "intents_without_examples": missing,
        "targets": {"macro_f1": settings.nlu_target_macro_f1, "out_of_scope_recall": settings.nlu_target_out_of_scope_recall},
    }
    summary["passed"] = (summary["macro_f1"] >= settings.nlu_target_macro_f1
                         and summary["out_of_scope_recall"] >= settings.nlu_target_out_of_scope_recall)
    return summary


def run(settings: Settings, *, force: bool = False) -> dict[str, Any]:
    folder = settings.reports_dir / "nlu" / model_fingerprint()
    summary_file = folder / "summary.json"
    if summary_file.exists() and not force:
        return json.loads(summary_file.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "rasa.log", "w") as log:
        done = subprocess.run(
            [str(RASA), "test", "nlu", "--nlu", "data/nlu.yml", "--config", "config.yml", "--cross-validation",
             "--folds", str(settings.nlu_folds), "--out", str(folder)],
            cwd=ROOT, env={**os.environ, **CHILD_ENV}, stdout=log, stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        raise RuntimeError(f"rasa test nlu 失败（退出码 {done.returncode}），日志：{folder / 'rasa.log'}")
    report = json.loads((folder / "intent_report.json").read_text(encoding="utf-8"))
    errors_file = folder / "intent_errors.json"
    errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
    summary = summarize(report, errors, domain_intents(), settings)
    summary_file.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    settings = load_settings()
    print(f"NLU {settings.nlu_folds} 折交叉验证（每折真实训练一次，2 核约 15-25 分钟）…", flush=True)
    summary = run(settings, force="--force" in args)
    print(f"样本 {summary['examples']} 个，意图 {summary['intents']} 个")
    print(f"意图 macro-F1          {summary['macro_f1']:.4f}（目标 ≥ {settings.nlu_target_macro_f1}）")
    print(f"out_of_scope 召回率    {summary['out_of_scope_recall']:.4f}（目标 ≥ {settings.nlu_target_out_of_scope_recall}）")
    print(f"准确率 {summary['accuracy']:.4f}；低于阈值判为 nlu_fallback 的 {summary['fallback_predictions']} 个")
    print("最弱的意图：" + "，".join(f"{name} {f1:.3f}" for name, f1 in summary["weakest"]))
    print("主要混淆：" + "，".join(f"{pair} ×{count}" for pair, count in summary["confusions"][:6]))
    print(f"报告：{settings.reports_dir / 'nlu' / summary['fingerprint']}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
