"""Query latency of the published index: ``Retriever.run(question)``, one question at a time.

What: for every question of tests/data/questions.yml (in_scope, off_topic, ambiguous, documents;
392 at the time of writing), the wall time of ``Retriever.run`` — question embedding, FAISS
search, jieba + BM25 coverage, title/alias mention scan, fusion and decision — for 3 passes, one
thread (``Retriever.from_published_index`` sets FAISS to 1 thread; its Embedder uses
``threads=1`` for torch; the numbers actually in effect are reported). Per pass: p50, p95, max
(percentiles by linear interpolation); headline = median of the per-pass values. Each question's
time is split into embedding / FAISS / BM25 / mention scan / rest by perf_counter wrappers on
those calls of the loaded index (a few microseconds of overhead per question). Also: index load
time, first-question time (loads torch and the model), RSS after loading (psutil), RSS after the
passes, and the peak RSS of the whole process (``ru_maxrss`` from wait4). The passes run with the
recent-questions cache off (they repeat the same questions); then one question is asked 100 times
in a row with the cache off and on, alternating for ``--passes`` rounds (p50 per round, median of
rounds, and whether every answer was identical).

How: the published index var/index is brought up to date first with
``index_builder.py build --if-changed``. Each index is measured in a fresh child process of this
script (so RSS is that index's alone), after warming up on 10 questions. If bench_large built
the 5000-guide index (var/bench/index-5000, or ``--large-index``), it is measured the same way.

    var/venv-app/bin/python benchmarks/bench_query.py [--passes 3] [--large-index DIR | --no-large]

Writes var/reports/bench-query.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common

LARGE_INDEX = _common.BENCH_VAR / "index-5000"
PARTS = ("embedding", "faiss", "bm25", "mentions", "rest")
WARM_UP = 10


class _Stopwatch:
    """Seconds spent in wrapped calls since the last reset, per label."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = dict.fromkeys(PARTS, 0.0)

    def reset(self) -> None:
        self.spent = dict.fromkeys(PARTS, 0.0)

    def wrap(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent[label] += time.perf_counter() - started

        return timed


class _TimedDense:
    """A FAISS index whose search() is timed."""

    def __init__(self, real: Any, watch: _Stopwatch) -> None:
        self.real = real
        self.search = watch.wrap("faiss", real.search)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _questions() -> list[tuple[str, str]]:
    from knowledge.index.evaluation import load_question_set
    from knowledge.settings import load_settings

    sets = load_question_set(load_settings().eval_questions)
    return [(kind, item if isinstance(item, str) else item["q"]) for kind in ("in_scope", "off_topic", "ambiguous", "documents")
            for item in sets[kind]]


def measure(index_dir: Path | None, passes: int) -> dict[str, Any]:
    """Runs inside the child process: load, warm up, time every question `passes` times."""
    import psutil

    process = psutil.Process()
    mb = 1024 * 1024
    started = time.perf_counter()
    import faiss

    from knowledge.retrieval.retriever import Retriever
    from knowledge.settings import load_settings

    imported = time.perf_counter()
    settings = load_settings(index_dir=index_dir) if index_dir else load_settings()
    retriever = Retriever.from_published_index(settings)
    # The passes ask the same questions again and again: they measure a question seen for the first
    # time, so the recent-questions cache is off for them (measured on its own below).
    retriever.embedder.query_cache_size = 0
    loaded = time.perf_counter()
    rss_index = process.memory_info().rss / mb
    retriever.run("第一次提问：开公司要带什么材料")  # loads torch and the model
    first = time.perf_counter() - loaded
    questions = _questions()
    for _kind, question in questions[:WARM_UP]:
        retriever.run(question)
    rss_loaded = process.memory_info().rss / mb

    import torch

    watch = _Stopwatch()
    data = retriever.data
    retriever.embedder.encode = watch.wrap("embedding", retriever.embedder.encode)  # type: ignore[method-assign]
    data.dense = _TimedDense(data.dense, watch)
    data.tokenizer.tokenize = watch.wrap("bm25", data.tokenizer.tokenize)  # type: ignore[method-assign]
    data.bm25.coverage = watch.wrap("bm25", data.bm25.coverage)  # type: ignore[method-assign]
    if hasattr(retriever, "_mentioned"):
        retriever._mentioned = watch.wrap("mentions", retriever._mentioned)  # type: ignore[method-assign]

    runs: list[dict[str, Any]] = []
    for number in range(1, passes + 1):
        totals: list[float] = []
        parts: dict[str, list[float]] = {part: [] for part in PARTS}
        decisions: Counter[str] = Counter()
        for _kind, question in questions:
            watch.reset()
            begun = time.perf_counter()
            result = retriever.run(question)
            total = time.perf_counter() - begun
            totals.append(total)
            for part in PARTS[:-1]:
                parts[part].append(watch.spent[part])
            parts["rest"].append(total - sum(watch.spent[part] for part in PARTS[:-1]))
            decisions[result.decision] += 1
        runs.append({
            "pass": number,
            **_common.summary_ms(totals),
            "parts": {part: _common.summary_ms(values) for part, values in parts.items()},
            "decisions": dict(decisions),
        })
    return {
        "repeated": _repeated(retriever, settings.query_embedding_cache_size, passes),
        "index_dir": str(settings.index_dir),
        "index_version": retriever.version,
        "counts": retriever.data.manifest.get("counts", {}),
        "questions": len(questions),
        "passes": runs,
        "threads": {"torch": torch.get_num_threads(), "faiss": faiss.omp_get_max_threads()},
        "imports_s": round(imported - started, 3),
        "load_index_s": round(loaded - imported, 3),
        "first_question_s": round(first, 3),
        "rss_mb": {
            "after_index_load": round(rss_index, 1),
            "after_loading": round(rss_loaded, 1),  # index + model, after warm-up
            "after_passes": round(process.memory_info().rss / mb, 1),
            "peak_in_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    }


def _repeated(retriever: Any, cache_size: int, passes: int, times: int = 100) -> dict[str, Any]:
    """One question asked `times` times in a row, with the recent-questions cache off and on
    (alternating, `passes` rounds): p50 per round, and whether every answer was the same."""
    question = "开公司要带什么材料"
    embedder = retriever.embedder
    rounds: dict[str, list[float]] = {"cache_off": [], "cache_on": []}
    answers = set()
    for _round in range(passes):
        for label, size in (("cache_off", 0), ("cache_on", cache_size)):
            embedder.query_cache_size = size
            embedder._recent.clear()
            retriever.run(question)  # the first time: with the cache on, this fills it
            spent = []
            for _ in range(times):
                begun = time.perf_counter()
                result = retriever.run(question)
                spent.append(time.perf_counter() - begun)
                answers.add((result.decision, result.guide_id, result.confidence, tuple(h.chunk.id for h in result.hits)))
            rounds[label].append(_common.summary_ms(spent)["p50_ms"])
    embedder.query_cache_size = 0
    return {"question": question, "times_per_round": times, "cache_size": cache_size,
            "p50_ms_per_round": rounds, "p50_ms": {k: round(_common.median(v), 2) for k, v in rounds.items()},
            "identical_answers": len(answers) == 1}


def _aggregate(result: dict[str, Any]) -> dict[str, Any]:
    """Median across passes of each per-pass statistic."""
    runs = result["passes"]
    headline = {key: round(_common.median([run[key] for run in runs]), 2) for key in ("p50_ms", "p95_ms", "max_ms", "mean_ms")}
    parts = {
        part: {key: round(_common.median([run["parts"][part][key] for run in runs]), 2) for key in ("p50_ms", "p95_ms", "mean_ms")}
        for part in PARTS
    }
    return {"passes": len(runs), "questions_per_pass": result["questions"], **headline, "parts": parts}


def _child(index_dir: Path | None, passes: int, name: str) -> dict[str, Any]:
    out = _common.BENCH_VAR / f"query-{name}.json"
    argv = [_common.python(), "benchmarks/bench_query.py", "--child", "--out", str(out), "--passes", str(passes)]
    if index_dir is not None:
        argv += ["--index-dir", str(index_dir)]
    run = _common.run_child(argv, log=_common.BENCH_VAR / f"query-{name}.log")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["process"] = {"wall_s": round(run.seconds, 2), "peak_rss_mb": round(run.max_rss_mb, 1)}
    result["summary"] = _aggregate(result)
    return result


def _print(name: str, result: dict[str, Any]) -> None:
    counts = result.get("counts", {})
    summary = result["summary"]
    print(f"\n### {name}: {counts.get('guides')} guides, {counts.get('documents')} documents, {counts.get('chunks')} chunks "
          f"(version {result['index_version']}); threads torch={result['threads']['torch']} faiss={result['threads']['faiss']}")
    rows: list[list[Any]] = [
        [f"pass {run['pass']}", run["n"], run["p50_ms"], run["p95_ms"], run["max_ms"], run["mean_ms"],
         " ".join(f"{k}={v}" for k, v in sorted(run["decisions"].items()))]
        for run in result["passes"]
    ]
    rows.append(["**median of passes**", summary["questions_per_pass"], summary["p50_ms"], summary["p95_ms"],
                 summary["max_ms"], summary["mean_ms"], ""])
    print()
    print(_common.markdown_table(["Retriever.run", "questions", "p50 (ms)", "p95 (ms)", "max (ms)", "mean (ms)", "decisions"], rows))
    parts = summary["parts"]
    print()
    print(_common.markdown_table(
        ["part of a question (median of passes)", "p50 (ms)", "p95 (ms)", "mean (ms)", "share of mean"],
        [[part, parts[part]["p50_ms"], parts[part]["p95_ms"], parts[part]["mean_ms"],
          f"{100 * parts[part]['mean_ms'] / summary['mean_ms']:.0f}%" if summary["mean_ms"] else "-"] for part in PARTS],
    ))
    rss = result["rss_mb"]
    print()
    print(_common.markdown_table(
        ["load and memory", "value"],
        [["imports (s)", result["imports_s"]], ["load index (s)", result["load_index_s"]],
         ["first question incl. model load (s)", result["first_question_s"]],
         ["RSS after index load (MB)", rss["after_index_load"]], ["RSS after loading + warm-up (MB)", rss["after_loading"]],
         ["RSS after the passes (MB)", rss["after_passes"]], ["peak RSS of the process (MB)", result["process"]["peak_rss_mb"]]],
    ))
    repeated = result.get("repeated")
    if repeated:
        print()
        print(_common.markdown_table(
            [f"“{repeated['question']}” asked {repeated['times_per_round']}× in a row", "p50 (ms), median of rounds", "rounds (ms)"],
            [[f"recent-questions cache {label.split('_')[1]}", repeated["p50_ms"][label],
              ", ".join(str(v) for v in repeated["p50_ms_per_round"][label])] for label in ("cache_off", "cache_on")]
            + [["same answer every time", repeated["identical_answers"], ""]],
        ))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--large-index", type=Path, default=LARGE_INDEX, help="the 5000-guide index of bench_large")
    parser.add_argument("--no-large", action="store_true", help="measure the bundled index only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.out.write_text(json.dumps(measure(args.index_dir, args.passes), ensure_ascii=False, indent=2), encoding="utf-8")
        return 0

    info = _common.machine()
    _common.say(f"bench_query on {_common.machine_line(info)}")
    build = _common.run_child([_common.python(), "index_builder.py", "build", "--if-changed"], log=_common.BENCH_VAR / "query-index-build.log")
    _common.say(build.output.strip().splitlines()[-1] if build.output.strip() else "index up to date")
    results: dict[str, Any] = {"bundled": _child(None, args.passes, "bundled")}
    _common.say("bundled index measured")
    large = args.large_index.resolve()
    if not args.no_large and (large / "CURRENT").is_file():
        results["large"] = _child(large, args.passes, "large")
        _common.say("large index measured")
    elif not args.no_large:
        _common.say(f"no large index at {large} (run bench_large.py first): skipped")
    report = {"benchmark": "query", "machine": info, "code": _common.code_version(), "results": results}
    path = _common.write_report("query", report)
    for name, result in results.items():
        _print(name, result)
    print(f"\nreport: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
