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

Query engines (settings.yml ``query_engine``): the bundled index is measured once per engine
(``--engines onnx,torch``, default both; each in its own child process, GOVQA_QUERY_ENGINE set, so
its RSS and imports are that engine's alone: the ONNX child never imports torch). Then one child
embeds every sample question one at a time with torch, ONNX with 1 intra-op thread and ONNX with 2,
alternating engines within each of ``--passes`` rounds (p50 per round, median of rounds, ratios of
medians measured in the same run; and the largest difference between their vectors). The load
average is recorded before and after (the machine is shared).

How: the published index var/index is brought up to date first with
``index_builder.py build --if-changed`` (``--no-build``: measure what is published as it is). Each index is measured in a fresh child process of this
script (so RSS is that index's alone), after warming up on 10 questions. If bench_large built
the 5000-guide index (var/bench/index-5000, or ``--large-index``), it is measured the same way.

    var/venv-app/bin/python benchmarks/bench_query.py [--passes 3] [--large-index DIR | --no-large]
        [--engines onnx,torch] [--no-build]

Writes var/reports/bench-query.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
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
    retriever.run("第一次提问：开公司要带什么材料")  # loads the query engine (torch or ONNX) and the model
    first = time.perf_counter() - loaded
    questions = _questions()
    for _kind, question in questions[:WARM_UP]:
        retriever.run(question)
    rss_loaded = process.memory_info().rss / mb

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
        "query_engine": retriever.embedder.query_engine_in_use,
        "torch_imported": "torch" in sys.modules,
        "threads": {"torch": sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None,
                    "onnx_intra_op": retriever.embedder.threads or 1 if retriever.embedder.query_engine_in_use == "onnx" else None,
                    "faiss": faiss.omp_get_max_threads()},
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


def measure_embedding(passes: int) -> dict[str, Any]:
    """Runs inside a child: one question at a time, torch vs ONNX (1 and 2 intra-op threads),
    engines alternating within each round so that a change of load hits all of them alike."""
    import numpy as np

    from knowledge.index.embedding import Embedder
    from knowledge.index.onnx_bert import OnnxBert
    from knowledge.settings import load_settings

    settings = load_settings()
    engines: dict[str, Any] = {}
    torch_side = Embedder(settings.embedding_model, lowercase=settings.embedding_lowercase, threads=1,
                          query_cache_size=0, query_engine="torch")
    engines["torch (1 thread)"] = torch_side._encode
    for threads in (1, 2):
        onnx_side = Embedder(settings.embedding_model, lowercase=settings.embedding_lowercase, threads=threads,
                             query_cache_size=0, query_engine="onnx")
        if not isinstance(onnx_side._onnx_engine(), OnnxBert):
            return {"skipped": "the configured model has no ONNX engine (see the log)"}
        engines[f"onnx ({threads} thread{'s' if threads > 1 else ''})"] = onnx_side._encode
    questions = [question for _kind, question in _questions()]
    vectors = {name: np.concatenate([encode([q]) for q in questions]) for name, encode in engines.items()}  # warm-up too
    reference = vectors["torch (1 thread)"]
    rounds: dict[str, list[float]] = {name: [] for name in engines}
    for _round in range(passes):
        for name, encode in engines.items():
            spent = []
            for question in questions:
                begun = time.perf_counter()
                encode([question])
                spent.append(time.perf_counter() - begun)
            rounds[name].append(_common.summary_ms(spent)["p50_ms"])
    medians = {name: round(_common.median(values), 2) for name, values in rounds.items()}
    return {"questions": len(questions), "rounds": passes, "p50_ms_per_round": rounds, "p50_ms": medians,
            "torch_over_engine": {name: round(medians["torch (1 thread)"] / value, 2) for name, value in medians.items() if value},
            "max_abs_difference_to_torch": {name: float(np.abs(v - reference).max()) for name, v in vectors.items()}}


def _child(index_dir: Path | None, passes: int, name: str, engine: str | None = None) -> dict[str, Any]:
    out = _common.BENCH_VAR / f"query-{name}.json"
    argv = [_common.python(), "benchmarks/bench_query.py", "--child", "--out", str(out), "--passes", str(passes)]
    if index_dir is not None:
        argv += ["--index-dir", str(index_dir)]
    env = {"GOVQA_QUERY_ENGINE": engine} if engine else None
    run = _common.run_child(argv, env, log=_common.BENCH_VAR / f"query-{name}.log")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["process"] = {"wall_s": round(run.seconds, 2), "peak_rss_mb": round(run.max_rss_mb, 1)}
    result["summary"] = _aggregate(result)
    return result


def _print(name: str, result: dict[str, Any]) -> None:
    counts = result.get("counts", {})
    summary = result["summary"]
    print(f"\n### {name}: {counts.get('guides')} guides, {counts.get('documents')} documents, {counts.get('chunks')} chunks "
          f"(version {result['index_version']}); query engine {result.get('query_engine', 'torch')}, threads "
          + " ".join(f"{k}={v}" for k, v in result["threads"].items() if v is not None)
          + f", torch imported: {result.get('torch_imported', True)}")
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


def _print_engines(engines: dict[str, Any]) -> None:
    embedding = engines.get("embedding") or {}
    if "p50_ms" in embedding:
        print(f"\n### one question's embedding ({embedding['questions']} sample questions, {embedding['rounds']} rounds, "
              "engines alternating in each round)\n")
        print(_common.markdown_table(
            ["engine", "p50 (ms), median of rounds", "rounds (ms)", "torch ÷ engine", "max |Δ| to torch's vector"],
            [[name, value, ", ".join(str(v) for v in embedding["p50_ms_per_round"][name]),
              embedding["torch_over_engine"].get(name, "-"), f"{embedding['max_abs_difference_to_torch'][name]:.1e}"]
             for name, value in embedding["p50_ms"].items()]))
    rows = engines.get("retrieval") or []
    if rows:
        print("\n### whole retrieval (Retriever.run) per query engine, bundled index, each in its own process\n")
        print(_common.markdown_table(
            ["engine", "p50 (ms)", "p95 (ms)", "embedding p50 (ms)", "RSS after loading (MB)", "peak RSS (MB)", "torch imported"],
            rows))
    print(f"\nload average before / after: {engines['load_before']} / {engines['load_after']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--large-index", type=Path, default=LARGE_INDEX, help="the 5000-guide index of bench_large")
    parser.add_argument("--no-large", action="store_true", help="measure the bundled index only")
    parser.add_argument("--engines", default="onnx,torch", help="query engines to compare on the bundled index "
                        "(comma-separated; the first one is the one the report's `bundled` row is measured with)")
    parser.add_argument("--no-build", action="store_true", help="measure the published index as it is (no build --if-changed)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--embed-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child or args.embed_child:
        result = measure_embedding(args.passes) if args.embed_child else measure(args.index_dir, args.passes)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        return 0
    engine_names = [name.strip() for name in args.engines.split(",") if name.strip()]

    info = _common.machine()
    _common.say(f"bench_query on {_common.machine_line(info)}")
    if not args.no_build:
        build = _common.run_child([_common.python(), "index_builder.py", "build", "--if-changed"],
                                  log=_common.BENCH_VAR / "query-index-build.log")
        _common.say(build.output.strip().splitlines()[-1] if build.output.strip() else "index up to date")
    load_before = [round(value, 2) for value in os.getloadavg()]
    results: dict[str, Any] = {}
    for number, engine in enumerate(engine_names):
        name = "bundled" if number == 0 else f"bundled-{engine}"
        results[name] = _child(None, args.passes, name, engine)
        _common.say(f"bundled index measured with query engine {engine}")
    engines: dict[str, Any] = {"retrieval": [
        [result.get("query_engine", "torch"), result["summary"]["p50_ms"], result["summary"]["p95_ms"],
         result["summary"]["parts"]["embedding"]["p50_ms"], result["rss_mb"]["after_loading"],
         result["process"]["peak_rss_mb"], result.get("torch_imported", True)] for result in results.values()]}
    if len(engine_names) > 1:
        out = _common.BENCH_VAR / "query-embedding.json"
        _common.run_child([_common.python(), "benchmarks/bench_query.py", "--embed-child", "--out", str(out),
                           "--passes", str(args.passes)], log=_common.BENCH_VAR / "query-embedding.log")
        engines["embedding"] = json.loads(out.read_text(encoding="utf-8"))
        _common.say("one question's embedding measured with each engine")
    engines["load_before"], engines["load_after"] = load_before, [round(value, 2) for value in os.getloadavg()]
    large = args.large_index.resolve()
    if not args.no_large and (large / "CURRENT").is_file():
        results["large"] = _child(large, args.passes, "large")
        _common.say("large index measured")
    elif not args.no_large:
        _common.say(f"no large index at {large} (run bench_large.py first): skipped")
    report = {"benchmark": "query", "machine": info, "code": _common.code_version(), "results": results, "engines": engines}
    path = _common.write_report("query", report)
    for name, result in results.items():
        _print(name, result)
    _print_engines(engines)
    print(f"\nreport: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
