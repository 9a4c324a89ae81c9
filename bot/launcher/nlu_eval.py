"""NLU evaluation: k-fold cross-validation of config.yml's pipeline on data/nlu.yml, and a test on
questions about service items the training data never names.

    python -m bot.launcher.nlu_eval          # make eval-nlu; exit 1 when below the targets in settings.yml
    python -m bot.launcher.nlu_eval --heldout tests/data/unseen/questions.yml   # make eval-nlu-heldout

Runs `rasa test nlu --cross-validation` (real training per fold, ~15-25 min on 2 cores) and
writes var/reports/nlu/<fingerprint>/ (Rasa's reports) plus summary.json. The result is kept
by the fingerprint of the model inputs: run again with unchanged data and config, and the kept
report is shown.

Macro-F1 is averaged over the domain's intents. A prediction below the FallbackClassifier's
threshold (nlu_fallback) counts as a miss for the true intent, but nlu_fallback is not itself
an intent and gets no F1 row of its own (Rasa's report would average in a 0 for it).

Why a held-out test (--heldout) besides cross-validation: the folds share the item vocabulary of
the sample guides, so an intent that keys on "施工许可" rather than on "要多久" still scores well
there, and fails on the guides admins add later. The held-out file asks about items absent from data/nlu.yml
(`in_scope: [{q, guide, aspect}]`, `off_topic: [str]`); the model of the current fingerprint is
trained if missing (as `make train` does) and reused otherwise. The expected intent follows from
the aspect (general -> ask_procedure, else ask_<aspect>, as ASPECT_OF_INTENT in actions/turn_aspect.py);
an off-topic question is right as out_of_scope or chitchat. Report: var/reports/nlu/heldout-<model>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.launcher.model import ensure_model, model_fingerprint
from bot.launcher.processes import CHILD_ENV, RASA
from knowledge.settings import ROOT, Settings, load_settings
from knowledge.sources.aspects import ASPECTS, GENERAL

FALLBACK = "nlu_fallback"
# Wrong intents that send an in-scope question away from the answer: a handoff, a complaint
# ticket, or "I cannot help with that" (nlu_fallback still lets the retriever try, but counts).
HARMFUL = ("request_human", "complain", "out_of_scope", FALLBACK)
OFF_TOPIC_OK = ("out_of_scope", "chitchat")
# Runs in the Rasa venv (the app venv has no Rasa): texts as JSON on stdin, one JSON line out.
PREDICT = """
import asyncio, json, sys
from rasa.core.agent import Agent
texts = json.load(sys.stdin)
agent = Agent.load(sys.argv[1])
async def parse():
    return [await agent.parse_message(text) for text in texts]
print(json.dumps([[r["intent"]["name"], round(float(r["intent"]["confidence"]), 4)] for r in asyncio.run(parse())]))
"""


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


def intent_of_aspect(aspect: str) -> str:
    if aspect not in ASPECTS:
        raise ValueError(f"未知的 aspect：{aspect}")
    return "ask_procedure" if aspect == GENERAL else f"ask_{aspect}"


def predict(model: Path, texts: list[str]) -> list[tuple[str, float]]:
    """(intent, confidence) of each text, from the trained model as the Rasa server would parse it."""
    done = subprocess.run([str(RASA.parent / "python"), "-c", PREDICT, str(model)], input=json.dumps(texts),
                          cwd=ROOT, env={**os.environ, **CHILD_ENV}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"加载模型预测失败（退出码 {done.returncode}）：{done.stderr[-2000:]}")
    return [(name, confidence) for name, confidence in json.loads(done.stdout.strip().splitlines()[-1])]


def score_heldout(questions: dict[str, Any], predictions: list[tuple[str, float]]) -> dict[str, Any]:
    """The numbers of the held-out report; `predictions` are for in_scope then off_topic, in order."""
    in_scope, off_topic = questions.get("in_scope") or [], questions.get("off_topic") or []
    aspect_intents = {intent_of_aspect(aspect) for aspect in ASPECTS}
    rows = [{"q": item["q"], "guide": item.get("guide"), "expected": intent_of_aspect(item["aspect"]), "predicted": name,
             "confidence": confidence} for item, (name, confidence) in zip(in_scope, predictions[:len(in_scope)], strict=True)]
    off = [{"q": text, "predicted": name, "confidence": confidence}
           for text, (name, confidence) in zip(off_topic, predictions[len(in_scope):], strict=True)]
    total = max(len(rows), 1)
    by_intent: dict[str, list[int]] = {}
    confusions: dict[str, int] = {}
    for row in rows:
        counts = by_intent.setdefault(row["expected"], [0, 0])
        counts[0] += row["expected"] == row["predicted"]
        counts[1] += 1
        if row["expected"] != row["predicted"]:
            key = f"{row['expected']} → {row['predicted']}"
            confusions[key] = confusions.get(key, 0) + 1
    harmful = {name: sum(1 for row in rows if row["predicted"] == name) for name in HARMFUL}
    return {
        "in_scope": len(rows),
        "accuracy": round(sum(row["expected"] == row["predicted"] for row in rows) / total, 4),
        "any_aspect_intent": round(sum(row["predicted"] in aspect_intents for row in rows) / total, 4),
        "harmful": harmful,
        "harmful_total": sum(harmful.values()),
        "by_intent": {name: {"correct": c, "total": t} for name, (c, t) in sorted(by_intent.items())},
        "confusions": sorted(confusions.items(), key=lambda item: -item[1]),
        "off_topic": len(off),
        "off_topic_recall": round(sum(row["predicted"] in OFF_TOPIC_OK for row in off) / max(len(off), 1), 4),
        "errors": [row for row in rows if row["expected"] != row["predicted"]],
        "off_topic_errors": [row for row in off if row["predicted"] not in OFF_TOPIC_OK],
    }


def conversation_turns(questions: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The first turns and the follow-ups of the conversations, as in_scope items. A first turn that only tells a
    situation ("我家房子着火了…") or a follow-up ("一个月能拿多少") is where a wrong intent loses the conversation."""
    first: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for conversation in questions.get("conversations") or []:
        for number, turn in enumerate(conversation.get("turns") or []):
            item = {"q": turn["q"], "guide": turn.get("guide", conversation.get("guide")), "aspect": turn["aspect"]}
            (later if number else first).append(item)
    return first, later


def run_heldout(settings: Settings, questions_file: Path, model: Path | None = None) -> dict[str, Any]:
    questions = yaml.safe_load(questions_file.read_text(encoding="utf-8")) or {}
    model = model.resolve() if model else ensure_model(settings, log=settings.var_dir / "logs" / "train.log")
    first, later = conversation_turns(questions)
    texts = ([item["q"] for item in questions.get("in_scope") or []] + list(questions.get("off_topic") or [])
             + [item["q"] for item in first + later])
    predictions = predict(model, texts)
    single = len(texts) - len(first) - len(later)
    summary = {"model": model.name, "questions": str(questions_file), **score_heldout(questions, predictions[:single])}
    if first:
        summary["first_turns"] = score_heldout({"in_scope": first}, predictions[single:single + len(first)])
        summary["follow_ups"] = score_heldout({"in_scope": later}, predictions[single + len(first):])
    # Named by the model, not the current inputs: --model can score an older model (a before/after).
    out = settings.reports_dir / "nlu" / f"heldout-{model.name.removesuffix('.tar.gz')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    summary["report"] = str(out)
    return summary


def print_heldout(summary: dict[str, Any]) -> None:
    harmful = summary["harmful"]
    print(f"模型 {summary['model']}；未见事项问题 {summary['in_scope']} 个，无关问题 {summary['off_topic']} 个")
    print(f"意图准确率（按 aspect）    {summary['accuracy']:.4f}")
    print(f"判为任一办事方面意图       {summary['any_aspect_intent']:.4f}")
    print(f"有害误判 {summary['harmful_total']} 个：转人工 {harmful['request_human']}，投诉 {harmful['complain']}，"
          f"超出范围 {harmful['out_of_scope']}，低置信度 {harmful[FALLBACK]}")
    print(f"无关问题召回率（out_of_scope/chitchat） {summary['off_topic_recall']:.4f}")
    print("各意图答对：" + "，".join(f"{name} {row['correct']}/{row['total']}" for name, row in summary["by_intent"].items()))
    print("主要混淆：" + "，".join(f"{pair} ×{count}" for pair, count in summary["confusions"][:8]))
    for key, label in (("first_turns", "对话首句"), ("follow_ups", "对话追问")):
        if key in summary:
            part = summary[key]
            print(f"{label} {part['in_scope']} 个：准确率 {part['accuracy']:.4f}，判为任一办事方面意图 "
                  f"{part['any_aspect_intent']:.4f}，有害误判 {part['harmful_total']} 个")
    print(f"报告：{summary['report']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="NLU 评估：交叉验证，或用未见事项的问题测试")
    parser.add_argument("--force", action="store_true", help="交叉验证：不用已保存的报告，重新跑")
    parser.add_argument("--heldout", type=Path, metavar="YML", help="未见事项测试：questions.yml（in_scope / off_topic）")
    parser.add_argument("--model", type=Path, help="未见事项测试：评估这个模型文件，而不是当前训练数据的模型")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.heldout:
        print("未见事项测试：用当前训练数据的模型（没有则先训练）…" if not args.model else f"未见事项测试：{args.model} …", flush=True)
        print_heldout(run_heldout(settings, args.heldout, args.model))
        return 0
    print(f"NLU {settings.nlu_folds} 折交叉验证（每折真实训练一次，2 核约 15-25 分钟）…", flush=True)
    summary = run(settings, force=args.force)
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
