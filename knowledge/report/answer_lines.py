"""Which answers the admin report lists as low-confidence: those just above the line their index version answers at.

Why relative to the line: an answer's recorded confidence is the decision model's calibrated probability that its
guide is right (knowledge/index/calibration.py, the `known` model), fitted anew for every published index version on
that knowledge base's own questions, asked once with their guide and once with it left out. Its scale is the
version's: on the sample knowledge base the assistant answers outright from `answer_at` 0.2865 and a right answer
("开办企业需要什么材料") scores 0.58. A fixed bar (0.8 before) listed most right answers there, and would list none on
a knowledge base whose line is high.

Why odds: the model is a logistic regression, so its log-odds are a linear score of the retrieval features, and
"odds below `report_low_confidence_odds` times the odds at the line" is the same distance of that score above the
line on every knowledge base. The bar also stays below 1 whatever the line: a multiple of the probability
(answer_at × 1.5) passes 1 once the line is above 0.67 and would then list every answer. Near a low line the two
hardly differ (twice the odds at 0.2865 is 0.45; 1.5 × 0.2865 is 0.43). The scope model's `confirm_at` is on another
probability (is the question the knowledge base's business) that the records do not keep: no bar is drawn on it.

Which line: that of the index version that answered (the records keep it per answer, `index_version`), read from
its calibration.json; the version serving now when the answer's version is no longer kept (KEEP_VERSIONS) or the row
names none. With no readable decision model at all, nothing is judged (the page says so).

Below the line: the retriever answers outright only from its line (knowledge/retrieval/retriever.py), so an answer
recorded below it was given on other grounds: the conversation's guide kept for a follow-up ("在哪办？" after
company setup, 0.06: the message names no matter), an item or an office the user named, words only one guide holds
(knowledge/retrieval/sole_words.py). Its number is the retrieval's doubt about the message alone, not about the
answer: such answers are counted, not listed. Picks from buttons, follow-ups the policy keeps without the retrieval
and confirms accepted with 是 are recorded at 1.0 (actions/answer.py), so they are never listed either. The records
keep no decision kind: an answer above the line that kept the conversation's guide is judged like one the retriever
chose (its number is then still the retriever's certainty of its best guide).

Usage::

    check = check_confidence(question_rows, settings.index_dir, settings.report_low_confidence_odds)
    check.low              # the answered rows to list
    check.lines            # {"20261206-…": AnswerLine("20261206-…", answer_at=0.2865, low_below=0.4454)}
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.records.store import ANSWERED
from knowledge.report.grouping import confidence

Row = dict[str, Any]


@dataclass(frozen=True)
class AnswerLine:
    """One index version's answer line and the bar below which an answer at or above the line is listed."""

    version: str
    answer_at: float
    low_below: float


@dataclass
class ConfidenceCheck:
    """The period's answers judged against their version's line: what the report lists, and what it says about it."""

    odds_ratio: float
    current: AnswerLine | None  # the serving version's line; also the line of answers whose own version is gone
    lines: dict[str, AnswerLine] = field(default_factory=dict)  # the lines answers were judged on, by version
    low: list[Row] = field(default_factory=list)  # listed: at or above their line, below its bar
    below_line: int = 0  # answered below their version's line: on other grounds, not judged by the number
    on_current: int = 0  # judged on the serving version's line: their own is no longer kept, or unrecorded
    unjudged: int = 0  # answered with a number but no decision model to read it against


def low_bar(answer_at: float, odds_ratio: float) -> float:
    """The confidence whose odds are `odds_ratio` times the odds at `answer_at` (to the records' 4 decimals)."""
    odds = odds_ratio * answer_at / (1.0 - answer_at)
    return round(odds / (1.0 + odds), 4)


def read_answer_at(folder: Path) -> float | None:
    """A version's answer line (calibration.json `answer_at`); None when missing, unreadable or not in (0, 1)."""
    from knowledge.retrieval.index_data import CALIBRATION_FILE

    try:
        value = float(json.loads((folder / CALIBRATION_FILE).read_text(encoding="utf-8"))["answer_at"])
    except (OSError, ValueError, TypeError, KeyError):
        return None  # a report must not fail on a damaged or older index: its answers go unjudged or on the current line
    return value if math.isfinite(value) and 0.0 < value < 1.0 else None


def odds_problem(odds_ratio: float) -> str | None:
    """A Chinese sentence when the setting cannot draw a bar (at 1 or below nothing would ever be listed)."""
    if math.isfinite(odds_ratio) and odds_ratio > 1.0:
        return None
    return f"settings.yml 的 report_low_confidence_odds 应大于 1（例如 2：答对几率不到回答线处 2 倍的回答算把握低），现在是 {odds_ratio}"


def check_confidence(questions: Iterable[Row], index_dir: Path, odds_ratio: float) -> ConfidenceCheck:
    """Judge every answered question row with a confidence against its index version's line (module docstring)."""
    from knowledge.index.store import IndexStore

    problem = odds_problem(odds_ratio)
    if problem:
        raise ValueError(problem)
    store = IndexStore(index_dir)
    # Only names of kept version folders are read: a row's text never becomes a path of its own.
    kept = set(store.list_versions())
    read: dict[str, AnswerLine | None] = {}

    def line_of(version: str) -> AnswerLine | None:
        if version not in read:
            answer_at = read_answer_at(store.versions / version) if version in kept else None
            read[version] = None if answer_at is None else AnswerLine(version, answer_at, low_bar(answer_at, odds_ratio))
        return read[version]

    serving = store.current_version()
    check = ConfidenceCheck(odds_ratio, line_of(serving) if serving else None)
    for row in questions:
        value = confidence(row)
        if row.get("outcome") != ANSWERED or value is None:
            continue  # not an answer, or one without a number (a confirm settled by 是: knowledge/report/followups.py)
        own = line_of(str(row["index_version"])) if row.get("index_version") else None
        line = own or check.current
        if line is None:
            check.unjudged += 1
            continue
        if own is None:
            check.on_current += 1
        check.lines[line.version] = line
        if value < line.answer_at:
            check.below_line += 1
        elif value < line.low_below:
            check.low.append(row)
    return check
