"""Conversation latency through the real stack: one user, turn after turn, on Rasa's REST channel.

What: the wall time of each POST /webhooks/rest/webhook as a channel sees it — Rasa NLU (jieba,
count vectors, DIET), the dialogue policies, the call to the action server (retrieval with the
m3e-small embedding, FAISS, BM25, the reply) and the SQLite tracker store write. Conversations are
scripted and mixed: questions with follow-ups, switches, ambiguity and picks, off-topic, handoff,
ratings and small talk (SCRIPTS below), each a new sender. One user at a time (no concurrency),
after WARM_UP turns. Also the resident memory (RSS, psutil) of the Rasa server and of the action
server after the run, and the time until both servers answered their health checks.

How: `bot.launcher.stack.Stack` starts both servers on free ports with a private tracker store and records
file, on the published index (var/index, brought up to date first by `make bench`) and the
trained model (trained first if missing).

    var/venv-app/bin/python benchmarks/bench_conversation.py [--turns 240]

Writes var/reports/bench-conversation.json.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import _common
import httpx
import psutil

from bot.launcher.stack import Stack

WARM_UP = 20
SCRIPTS: list[list[str]] = [
    ["你好", "开办企业需要什么材料", "那要多久？", "在哪里办", "/feedback_good", "谢谢"],
    ["用水报装要多长时间", "用电报装呢", "要交哪些材料", "收费吗", "再见"],
    ["注销公司", "2", "要多久", "/feedback_bad", "没说清楚清算报告怎么写"],
    ["今天天气怎么样", "食品经营许可证去哪里办", "电话多少", "转人工"],
    ["你是谁", "惠企政策免申即享由哪些部门牵头", "刻章可以网上办吗", "不用了"],
    ["我要投诉，跑了三趟都没办成", "施工许可证要什么条件", "开公司的住所可以用住宅吗", "好的"],
    ["个体户营业执照的办理流程是什么", "那个体户呢？", "游艇驾驶证考试要带什么材料", "劳动仲裁怎么申请"],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=240, help="measured turns (after the warm-up)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-conversation-", dir=_common.BENCH_VAR if _common.BENCH_VAR.exists() else None))
    env = {"GOVQA_TRACKER_DB": str(scratch / "tracker.sqlite3"), "GOVQA_RECORDS_DB": str(scratch / "records.sqlite3"),
               "TELEGRAM_BOT_TOKEN": ""}  # a benchmark never starts a real Telegram bot
    stack = Stack(ports=(_common.free_port(), _common.free_port()), kefu_port=_common.free_port(), env=env, logs=scratch / "logs")
    _common.say("starting the action server and the Rasa server")
    started = time.perf_counter()
    stack.start(channels=False)
    ready_seconds = time.perf_counter() - started
    latencies: list[float] = []
    empty_replies = 0
    try:
        with httpx.Client(timeout=60) as client:
            turns = itertools.chain.from_iterable(
                ((f"bench-{round_}-{number}", message) for message in script)
                for round_ in itertools.count() for number, script in enumerate(SCRIPTS)
            )
            for index, (sender, message) in enumerate(turns):
                if index >= WARM_UP + args.turns:
                    break
                before = time.perf_counter()
                response = client.post(stack.rest_url, json={"sender": sender, "message": message}, headers=stack.rest_headers)
                elapsed = time.perf_counter() - before
                response.raise_for_status()
                if index >= WARM_UP:
                    latencies.append(elapsed)
                    empty_replies += not response.json()
        memory = {name: round(psutil.Process(process.pid).memory_info().rss / 2**20, 1)
                  for name, process in (("rasa_server_mb", stack.rasa), ("action_server_mb", stack.actions)) if process}
    finally:
        stack.stop()
    summary = _common.summary_ms(latencies)
    report = {"machine": _common.machine(), "code": _common.code_version(), "warm_up_turns": WARM_UP,
              "turns": summary, "empty_replies": empty_replies, "rss_after_run": memory,
              "stack_ready_seconds": round(ready_seconds, 1), "model": stack.model.name if stack.model else None}
    path = _common.write_report("conversation", report)
    print(_common.markdown_table(
        ["turns", "p50 ms", "p95 ms", "max ms", "Rasa RSS MB", "actions RSS MB", "ready s"],
        [[summary["n"], summary["p50_ms"], summary["p95_ms"], summary["max_ms"], memory.get("rasa_server_mb"),
          memory.get("action_server_mb"), round(ready_seconds, 1)]],
    ))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
