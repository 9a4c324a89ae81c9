"""What `build` and `status` say about the publish gate (knowledge/index/gate.py) and about the guides a
build adds or removes, as lines of Chinese for the admin. Standard library only (no model is loaded).

The gate's findings are read as the manifest keeps them (``Findings.as_dict()``, manifest["gate"]), so
a build and a later `status` say the same, and manifests written before a field existed still print.

Usage::

    for line in change_lines(report.change): print(line)
    for line in findings_lines(error.findings): print(line)            # the gate refused (or --accept)
    for line in gate_lines(findings.as_dict(), serving="原来"): print(line)  # a passing build; status
"""

from __future__ import annotations

from typing import Any

from knowledge.index.labels import label, labelled

SHOWN_GUIDES = 20  # added or removed guides named one by one; the rest are counted
SHOWN_WORSE = 10  # questions that got worse while the gate still passed (status, a passing build)
SHOWN_REFUSED = 30  # questions that got worse when the gate refused: the admin has to fix them
COMPARED = " 发布中 → 新"  # the suffix of the gate's before → after metrics (gate.check)
REMOVED_HINT = "  群众再问到已删除的指南时，助手会说明本知识库已不再提供该事项，不会拿别的指南来回答。"


def _named(pairs: list[tuple[str, str]], limit: int = SHOWN_GUIDES) -> str:
    text = "、".join(f"{title}（{guide_id}）" for guide_id, title in pairs[:limit])
    return text + (f" 等，另有 {len(pairs) - limit} 个" if len(pairs) > limit else "")


def change_lines(change: Any) -> list[str]:
    """The guides a build added and removed since the version serving before it (a GuideChange; empty on a
    first build: every guide is new, naming them says nothing)."""
    lines = []
    if change is not None and change.added:
        lines.append(f"新增指南 {len(change.added)} 个：{_named(change.added)}")
    if change is not None and change.removed:
        lines.append(f"删除指南 {len(change.removed)} 个：{_named(change.removed)}")
        lines.append(REMOVED_HINT)
    return lines


def _guide(guide_id: str | None, title: str | None) -> str:
    return f"{title}（{guide_id}）" if title else str(guide_id)


def worse_line(item: dict[str, Any]) -> str:
    """One question that got worse: what it should find and which guide the new build ranks first."""
    expected = _guide(item.get("guide"), item.get("title"))
    got = item.get("got")
    if "got" not in item:  # a manifest written before the gate recorded it
        now = ""
    elif got is None:
        now = "，现在没有指南排第一"
    elif got == item.get("guide"):
        now = "，它仍排第一，但把握不够，不再直接回答或确认"
    else:
        now = f"，现在排第一的是 {_guide(got, item.get('got_title'))}"
    return f"  · {item['q']}（应为 {expected}{now}）"


def _worse_lines(worse: list[dict[str, Any]], limit: int, heading: str) -> list[str]:
    if not worse:
        return []
    lines = [heading, *(worse_line(item) for item in worse[:limit])]
    if len(worse) > limit:
        lines.append(f"  另有 {len(worse) - limit} 个")
    return [*lines, "怎么办：" + worse[0]["advice"]]


def findings_lines(findings: Any) -> list[str]:
    """Everything the gate found, for a build it refused (or one published with --accept): what it compared,
    what failed, and the questions that got worse with the guide now first and what to do."""
    lines = [f"  {label(key)}：{value}" for key, value in findings.metrics.items()]
    lines += [f"✗ {failure}" for failure in findings.failures]
    return lines + _worse_lines(findings.worse, SHOWN_REFUSED, f"变差的问题（{len(findings.worse)} 个）：")


def comparison(metrics: dict[str, Any]) -> str:
    """One line of what the gate compared: "和…比（共同的评测问题 288 个）：Top-1 0.9583 → 0.9549，…", or the
    first build's absolute check."""
    if "common_questions" in metrics:
        pairs = "，".join(f"{key.removesuffix(COMPARED)} {value}" for key, value in metrics.items() if key != "common_questions")
        return f"共同的评测问题 {metrics['common_questions']} 个：{pairs}" if pairs else f"共同的评测问题 {metrics['common_questions']} 个"
    if "questions" in metrics:
        return "没有可比较的版本（首次构建），按固定门槛检查：" + labelled(metrics)
    return "没有可比较的评测问题（评测问题文件不存在）" + ("：" + labelled(metrics) if metrics else "")


def gate_lines(gate: dict[str, Any] | None, serving: str = "当时") -> list[str]:
    """The gate's result for a published version (manifest["gate"]) or a build that passed: passed or
    accepted, one line of what it compared, and the questions that got worse within the allowed drop.
    `serving`: "当时" (status: the version serving when it was built) or "原来" (the build just now)."""
    if gate is None:
        return ["发布门槛：没有记录（构建时用了 --no-gate，或是加入门槛之前的版本）"]
    metrics, worse = gate.get("metrics") or {}, gate.get("worse") or []
    head = f"和{serving}正在服务的版本比，" if "common_questions" in metrics else ""
    lines = []
    if gate.get("accepted"):
        lines.append(f"⚠ 本版本未通过发布门槛，由管理员确认发布：{gate['accepted']}（{'；'.join(gate.get('failures') or [])}）")
        lines.append(f"  发布门槛比较：{head}{comparison(metrics)}")
        return lines + _worse_lines(worse, SHOWN_WORSE, f"变差的问题（{len(worse)} 个）：")
    lines.append(f"发布门槛：通过。{head}{comparison(metrics)}")
    heading = f"有 {len(worse)} 个问题变差了，但仍在允许的下降范围内，门槛放行："
    return lines + _worse_lines(worse, SHOWN_WORSE, heading)
