"""Openings that only tell the citizen's situation, through the whole stack (REST), on a development set.

Citizens often open with their situation and no question ("我在小区门口租了个门面，想卖熟食"), then ask only an
aspect ("要准备什么"). This builds such openings from a development set's in-scope questions (the question
without its aspect words, kept when it asks nothing and still describes a matter) and measures:

- first reply: how many openings are offered the right guide (answered, confirmed or among the choices), and
  how many are refused; the set's off-topic questions as first messages: how many are offered a guide;
- second reply: after the opening, the item-free aspect question of the original question's aspect: how many
  replies hold the guide's asked section and phone (eval_unseen's measure), counted apart for openings the
  first reply did not answer; and after an off-topic first message, how often "要准备什么" is offered a guide.

`--opening-seconds 0` switches the rule that reads the aspect question with the opening off
(settings.yml `context_opening_seconds`), for a before/after in one checkout. Only the development sets (dev*):
the held-out sets (tests/data/unseen*/) are never read here.

    var/venv-app/bin/python benchmarks/probe_openings.py --set dev2 --work-dir var/tmp/probe [--scenario added]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import _common
import eval_unseen as unseen

from actions.dialogue import states_a_matter
from bot.launcher.stack import Stack
from knowledge.index.embedding import Embedder
from knowledge.settings import load_settings
from knowledge.sources.aspects import strip_aspect_words

DEV_SETS = _common.DEV_SETS
# The item-free question asked second, by the original question's aspect.
ASPECT_QUESTIONS = {"materials": "要准备什么", "time_limit": "多久能办好", "fee": "要钱不", "location": "在哪办",
                    "contact": "电话多少", "process": "具体咋弄", "conditions": "我这种情况能办吗", "online": "网上能办吗",
                    "general": "要办什么手续"}


def _offered(messages: list[dict[str, Any]]) -> set[str]:
    """The guides a reply answers, confirms or lists as choices."""
    found = {payload["guide"]["id"] for key in ("answer", "confirm")
             if (payload := unseen._payload(messages, key)) and payload.get("guide")}
    for message in messages:
        for button in message.get("buttons") or []:
            found.update(re.findall(r'"pick": "([^"]+)"', button.get("payload", "")))
    return found


def _text(messages: list[dict[str, Any]]) -> str:
    return " ".join(message.get("text") or "" for message in messages)


def probe(stack: Stack, questions: dict[str, Any]) -> dict[str, Any]:
    first_right = refused = second_held = unplaced = unplaced_held = total = 0
    misses = []
    for number, item in enumerate(questions["in_scope"]):
        opening = strip_aspect_words(item["q"]).strip("，,。？?！! ")
        if not states_a_matter(opening):
            continue
        total += 1
        chat = unseen.Conversation(stack.rest_url, f"probe-opening-{number}", stack.rest_headers)
        first = chat.say(opening)
        first_right += item["guide"] in _offered(first)
        refused += "不在我的服务范围" in _text(first)
        placed = unseen._payload(first, "answer") is not None
        second, _ = chat.ask(ASPECT_QUESTIONS[item["aspect"]], item["guide"])
        held = unseen._holds(second, questions["guides"][item["guide"]], item["aspect"])
        second_held += held
        unplaced += not placed
        unplaced_held += held and not placed
        if not held:
            misses.append({"opening": opening, "then": ASPECT_QUESTIONS[item["aspect"]], "guide": item["guide"],
                           "reply": _text(second)[:80]})
    off_first = off_second = 0
    for number, text in enumerate(questions["off_topic"]):
        chat = unseen.Conversation(stack.rest_url, f"probe-offtopic-{number}", stack.rest_headers)
        off_first += bool(_offered(chat.say(text)))
        off_second += bool(_offered(chat.say("要准备什么")))
    n_off = len(questions["off_topic"])
    return {"openings": total, "first_offered_right": first_right, "first_refused": refused, "second_held": second_held,
            "unplaced": unplaced, "unplaced_second_held": unplaced_held, "offtopic": n_off,
            "offtopic_first_offered": off_first, "offtopic_then_aspect_offered": off_second, "misses": misses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=DEV_SETS, default="dev")
    parser.add_argument("--scenario", choices=("added", "replaced"), default="replaced")
    parser.add_argument("--work-dir", type=Path, required=True, help="a private folder for the built scenario")
    parser.add_argument("--opening-seconds", type=float, default=None, help="context_opening_seconds (0: the rule off)")
    args = parser.parse_args(argv)
    base = load_settings()
    embedder = Embedder(base.embedding_model, lowercase=base.embedding_lowercase, threads=1)
    questions = unseen._questions(unseen.DATA / args.set)
    settings = unseen._scenario_settings(args.scenario, base, args.work_dir)
    unseen._publish(settings, args.scenario, embedder, questions["guide_files"])
    env = _common.build_env(index_dir=settings.index_dir, cache=settings.embedding_cache, reports=settings.reports_dir,
                            guides=settings.guides_dir, documents=settings.documents_dir)
    env.update({"GOVQA_RECORDS_DB": str(settings.records_db), "GOVQA_TRACKER_DB": str(settings.tracker_db),
                "TELEGRAM_BOT_TOKEN": ""})
    if args.opening_seconds is not None:
        env["GOVQA_CONTEXT_OPENING_SECONDS"] = str(args.opening_seconds)
    stack = Stack(ports=(_common.free_port(), _common.free_port()), env=env, logs=settings.index_dir.parent / "logs")
    stack.start(channels=False)
    try:
        report = probe(stack, questions)
    finally:
        stack.stop()
    path = args.work_dir / f"probe-openings-{args.set}-{args.scenario}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{args.set} {args.scenario}: 只说处境的第一句给出正确指南 {report['first_offered_right']}/{report['openings']}，"
          f"被拒答 {report['first_refused']}；第二句只问方面答对 {report['second_held']}/{report['openings']}"
          f"（第一句没回答的 {report['unplaced_second_held']}/{report['unplaced']}）；无关问题作第一句给出指南 "
          f"{report['offtopic_first_offered']}/{report['offtopic']}，再问“要准备什么”给出指南 "
          f"{report['offtopic_then_aspect_offered']}/{report['offtopic']}\n报告：{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
