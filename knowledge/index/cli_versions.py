"""`list` and `list --history` of index_builder.py: the versions kept, which one serves, which one the next
`rollback` goes to, which were published despite the gate (--accept, with the admin's reason) and which
were rolled back to or from (history.jsonl), and how many versions are kept at all (store.KEEP_VERSIONS):
an admin who cannot see that learns it only when the version to roll back to is gone.

Standard library only at import, like cli_status.py: index_builder.py imports it before it re-runs itself
in the app environment.

A store whose CURRENT names a version that cannot be read (its folder deleted by hand, an index folder
copied only in part, a damaged manifest.json) serves nothing: `status`, `list`, `query`, `eval`, `rollback`
and a failed `build` say which version it names, what is wrong, the versions kept and what to do
(`broken_current_lines`), never a traceback.

Usage::

    for line in version_lines(store, eval_guides(settings.eval_questions)): print(line)
    for line in history_lines(store): print(line)
    for line in broken_current_lines(store): print(line, file=sys.stderr)   # [] when CURRENT is fine or absent
    raise NoIndexError("\n".join(unserved_lines(store)))                     # nothing can be served: why, what to do
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from knowledge.index.cli_status import eval_scope
from knowledge.index.labels import label

if TYPE_CHECKING:
    from knowledge.index.store import IndexStore

SHOWN_HISTORY = 50  # history entries `list --history` shows (the newest); history.jsonl keeps them all


def kept_versions() -> str:
    """How many versions are kept: said by `list`, the rollback help and a refused rollback."""
    from knowledge.index.store import KEEP_VERSIONS

    return f"构建后只保留最近 {KEEP_VERSIONS} 个版本（当前的、上一个和下一次回滚要回到的版本也保留），更早的自动删除、不能再回滚到"


def pad(value: Any, width: int) -> str:
    """`value` padded to `width` terminal columns (Chinese characters take two); negative: right-aligned."""
    text = str(value)
    fill = " " * max(0, abs(width) - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text))
    return fill + text if width < 0 else text + fill


def _when(entry: dict[str, Any]) -> str:
    return str(entry.get("time", "")).replace("T", " ")


def version_notes(history: list[dict[str, Any]], rolled_from: set[str]) -> dict[str, list[str]]:
    """{version: notes} from history.jsonl: published with --accept (why), rolled back to, rolled back from
    (the latest time of each). "Rolled back from" only for `rolled_from` (store.rolled_back_from): the versions a
    `rollback` skips; a version left by going forward, or rolled back to since, is not one."""
    notes: dict[str, dict[str, str]] = {}
    for entry in history:
        version, previous = entry.get("version"), entry.get("previous")
        if entry.get("action") == "publish" and entry.get("accepted"):
            notes.setdefault(version, {})["accepted"] = f"未过门槛、管理员确认发布：{entry['accepted']}"
        if entry.get("action") == "rollback":
            notes.setdefault(version, {})["to"] = f"{_when(entry)} 回滚到此"
            if previous in rolled_from:
                notes.setdefault(previous, {})["from"] = f"{_when(entry)} 从此版本回滚离开"
    return {version: list(kinds.values()) for version, kinds in notes.items()}


def version_lines(store: IndexStore, asked: set[str] | None) -> list[str]:
    """The `list` table: a header, a row per version (oldest first, * the serving one, notes after the
    Top-1 column) and one closing line. `asked`: the guides the evaluation questions ask about."""
    current, versions = store.current_version(), store.list_versions()
    target = store.rollback_target()
    history, damaged = store.read_history()
    notes = version_notes(history, store.rolled_back_from(history))
    columns = [("版本", 22), ("构建时间", 19), ("指南", -4), ("切块", -6), (label("top1") + "（示例评测集）", 20)]
    lines = ["  " + "  ".join(pad(title, width) for title, width in columns).rstrip()]
    counts, readable = set(), set()
    for version in versions:
        try:
            manifest = store.manifest(version)
        except (OSError, ValueError):  # deleted, cut short or edited by hand: the row says so, the others still show
            manifest = None
        if not isinstance(manifest, dict):
            lines.append(("* " if version == current else "  ") + pad(version, 22) + "  manifest.json 缺失或损坏，不能回滚到此版本")
            continue
        readable.add(version)
        scope = eval_scope(manifest, asked)
        top1 = "-" if scope is None else scope.cell(manifest["eval"]["metrics"].get("top1", "-"))
        if scope is not None and scope.applies:
            counts.add(scope.questions)
        marks = list(notes.get(version, []))
        if manifest.get("gate") and manifest["gate"].get("accepted") and not any("确认发布" in n for n in marks):
            marks.insert(0, f"未过门槛、管理员确认发布：{manifest['gate']['accepted']}")
        if version == target:
            marks.append("不带版本的 rollback 回到此版本")
        cells = [version, str(manifest.get("built_at", "-")).replace("T", " "), manifest["counts"]["guides"],
                 manifest["counts"]["chunks"], top1]
        row = "  ".join(pad(cell, width) for cell, (_, width) in zip(cells, columns, strict=True))
        lines.append((("* " if version == current else "  ") + row + "  " + "；".join(marks)).rstrip())
    broken = "，不可用" if current is not None and current not in readable else ""  # its folder gone or its manifest unreadable
    closing = f"共 {len(versions)} 个版本，* 为当前发布的版本（{current or '无'}{broken}）；{kept_versions()}"
    if len(counts) > 1:
        closing += "；各版本的 Top-1 是在不同数量的评测问题上算的（只问该版本有的指南），题数不同不要直接比较"
    return [*lines, closing, *history_notice(store, damaged)]


def history_notice(store: IndexStore, damaged: int | None = None) -> list[str]:
    """The line saying history.jsonl has lines that cannot be read (skipped), or none. `damaged`: their count,
    when the caller has read the history already."""
    damaged = store.read_history()[1] if damaged is None else damaged
    return [f"⚠ 发布记录 {store.root / 'history.jsonl'} 有 {damaged} 行已损坏、无法读取，已跳过；"
            "回滚的目标和版本备注只依据其余的记录"] if damaged else []


def history_lines(store: IndexStore) -> list[str]:
    """`list --history`: every publish and rollback (the newest SHOWN_HISTORY), oldest first."""
    (history, damaged), kept = store.read_history(), set(store.list_versions())
    if not history:
        return ["还没有发布记录（history.jsonl）", *history_notice(store, damaged)]
    lines = [f"发布和回滚记录（{store.root / 'history.jsonl'}，共 {len(history)} 条，早的在前）：", *history_notice(store, damaged)]
    if len(history) > SHOWN_HISTORY:
        lines.append(f"  （更早的 {len(history) - SHOWN_HISTORY} 条略去）")
    for entry in history[-SHOWN_HISTORY:]:
        version = str(entry.get("version"))
        gone = "" if version in kept else "（已删除）"
        if entry.get("action") == "rollback":
            what = f"回滚到 {version}{gone}，之前是 {entry.get('previous') or '无'}"
        else:
            what = f"发布 {version}{gone}" + (f"，未过门槛、管理员确认发布：{entry['accepted']}" if entry.get("accepted") else "")
        lines.append(f"  {_when(entry)}  {what}")
    return lines


def broken_current_lines(store: IndexStore) -> list[str]:
    """When CURRENT names a version that cannot be read (store.manifest_problem): which one and what is wrong,
    the versions kept (the one a `rollback` without a version goes to marked) and what to do. [] when
    CURRENT names a readable version or nothing at all (before the first build)."""
    current = store.current_version()
    problem = store.manifest_problem(current) if current else None
    if problem is None:
        return []
    lines = [f"当前没有可用的索引：{store.root / 'CURRENT'} 指向索引版本 {current}，但{problem}；"
             "可能是被手动删除或改动过，或索引文件夹没有复制完整"]
    kept = [name for name in store.list_versions() if name != current and store.manifest_problem(name) is None]
    if not kept:
        return [*lines, "没有保留其他可用的版本", "怎么办：运行 python3 index_builder.py build 重新构建并发布"]
    target = store.rollback_target()
    lines.append("保留的版本：" + "、".join(f"{name}（不带版本的 rollback 会回到此版本）" if name == target else name for name in kept))
    return [*lines, f"怎么办：运行 python3 index_builder.py rollback <版本> 回到保留的版本（例如 rollback {target or kept[-1]}），"
                    "或运行 python3 index_builder.py build 重新构建并发布"]


def unserved_lines(store: IndexStore) -> list[str]:
    """Why nothing can be served, for a process that must load the published index (the action server, the desk's
    search, `query`): a CURRENT naming a version that cannot be read (`broken_current_lines`), a CURRENT file gone
    while versions are kept (a rollback publishes one again without rebuilding), or nothing ever published."""
    if broken := broken_current_lines(store):
        return broken
    kept = [name for name in store.list_versions() if store.manifest_problem(name) is None]
    if store.current_version() is None and kept:
        # the version that served last (the history's last entry) if it is kept, else the newest kept one
        served = [entry.get("version") for entry in store.history() if entry.get("version") in kept]
        target = served[-1] if served else kept[-1]
        return [f"当前没有可用的索引：{store.root / 'CURRENT'} 不存在或是空的（没有指向任何版本），但保留了版本：{'、'.join(kept)}",
                f"怎么办：运行 python3 index_builder.py rollback {target} 重新发布最后在服务的版本，"
                "或运行 python3 index_builder.py build 重新构建并发布"]
    return ["还没有发布任何索引：请先运行 python3 index_builder.py build"]


def serving_note(store: IndexStore) -> list[str]:
    """What serves after a build that published nothing: the version that served before, or nothing at all."""
    if store.current_version() is None:
        return ["此前没有发布过索引，现在仍然没有可用的索引：改正后再运行 python3 index_builder.py build"]
    return broken_current_lines(store) or ["原来发布的索引保持不变，继续服务。"]
