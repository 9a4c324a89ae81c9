"""Does the first reply answer the asked aspect? A deterministic probe of the dialogue's aspect layer, without retrieval.

For every in-scope question of a set, the trained NLU model gives its intent; `actions.turn_aspect.turn_aspect` (as for
a first message, no guide yet) and `actions.asked.also_asked` give the sections the answer would show. A question is
covered when those sections include every section of its labelled aspect (knowledge.sources.aspects.ASPECT_SECTIONS),
which is what the whole-stack measure (eval_unseen.py) also needs besides the right guide. It isolates the part of
"right guide, wrong section" that the intent and the wording cues decide, in seconds instead of minutes.

Development sets (dev*) and the sample's question file print the uncovered questions; held-out sets (unseen*) print
the totals only, so that measuring them never shows which questions failed.

    var/venv-app/bin/python benchmarks/probe_aspects.py dev7 tests/data/questions.yml [--model var/models/X.tar.gz]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _common
import yaml

from actions.asked import also_asked
from actions.turn_aspect import turn_aspect
from bot.launcher.model import ensure_model
from bot.launcher.nlu_eval import predict
from knowledge.settings import load_settings
from knowledge.sources.aspects import ASPECT_SECTIONS


def answered_sections(intent: str, question: str) -> set[str]:
    """The sections a first reply to `question` shows, given the NLU's intent."""
    aspect = turn_aspect(intent, question, in_conversation=False, previous=None, pending=None)
    return {heading for one in (aspect, *also_asked(question, aspect)) for heading in ASPECT_SECTIONS[one]}


def probe(model: Path, questions_file: Path) -> tuple[int, int, list[str]]:
    """(covered, total, lines describing the uncovered questions)."""
    items = yaml.safe_load(questions_file.read_text(encoding="utf-8")).get("in_scope") or []
    predictions = predict(model, [item["q"] for item in items])
    covered, misses = 0, []
    for item, (intent, confidence) in zip(items, predictions, strict=True):
        if set(ASPECT_SECTIONS[item["aspect"]]) <= answered_sections(intent, item["q"]):
            covered += 1
        else:
            misses.append(f"  {item['aspect']:<10} ← {intent} {confidence:.2f}  {item['q']}")
    return covered, len(items), misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="dev7、unseen10 之类的集名，或一个 questions.yml 的路径")
    parser.add_argument("--model", type=Path, help="Rasa 模型文件（默认：当前训练数据的模型）")
    args = parser.parse_args(argv)
    settings = load_settings()
    model = args.model or ensure_model(settings, log=settings.var_dir / "logs" / "train.log")
    for name in args.sets:
        path = Path(name) if name.endswith(".yml") else _common.DATA_SETS / name / "questions.yml"
        if not path.is_file():
            print(f"没有这个评测集：{path}", file=sys.stderr)
            return 2
        covered, total, misses = probe(model, path)
        print(f"{name}: 第一句回答含所问方面的章节 {covered}/{total}")
        if not path.parent.name.startswith("unseen"):  # held-out sets: the totals only
            print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
