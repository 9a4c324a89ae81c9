"""Calibration's batch scoring (`Retriever.features_many`): the decision features of one
question under several exclusions, with the per-guide grouping of `Retriever._score` done as array
arithmetic on per-chunk arrays instead of a Python loop over ~200 hits per search.

Same numbers bit for bit as `Retriever.features` (tests/knowledge/index/test_batch_features.py
compares them, ties included): the same float64 operations in the same order, and the first of
equal scores wins, as the stable sort in `_score` makes it.

Usage::

    table = ChunkTable(retriever.data)      # once per loaded index
    values, best_guide = table.features(params, data, vector, exclude, coverage, mentioned, name_shares)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from knowledge.index.chunks import ANCHOR

if TYPE_CHECKING:
    from knowledge.retrieval.index_data import IndexData
    from knowledge.retrieval.retriever import RetrievalParams


def search_depth(params: RetrievalParams, data: IndexData, exclude: set[int]) -> int:
    """How many nearest chunks `ChunkTable.features` asks the dense index for (as `Retriever._score`)."""
    return min(params.dense_candidates + len(exclude), data.dense.ntotal)


class ChunkTable:
    """Per-chunk arrays of one IndexData for `Retriever.features_many`: what `_score` reads from
    each hit's Chunk (anchor or not, which guide), as numbers."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        self.guide_ids = sorted({c.guide_id for c in data.chunks if c.guide_id})
        row = self.row_of = {guide_id: index for index, guide_id in enumerate(self.guide_ids)}
        self.is_anchor = np.array([c.kind == ANCHOR for c in data.chunks], dtype=bool)
        # -1: a policy passage (anchors are told apart by is_anchor first, as in _score)
        self.guide_row = np.array([row[c.guide_id] if c.guide_id else -1 for c in data.chunks], dtype=np.int64)

    def features(self, params: RetrievalParams, data: IndexData, vector: np.ndarray, exclude: set[int],
                 coverage: np.ndarray, mentioned: set[str], name_shares: dict[str, float] | None = None,
                 ) -> tuple[list[float], str | None]:
        """`Retriever._features(_score(...))` and the best hit's guide, with the same float64
        operations in the same order (so the same bits); ties go to the hit `_score` lists first."""
        weight = params.lexical_weight
        scores, ids = data.dense.search(vector.reshape(1, -1), search_depth(params, data, exclude))
        floor = float(scores[0][-1])
        ids = ids[0]
        keep = ids >= 0
        if exclude:  # a comparison table, not np.isin: its set logic cost more than the ~20 x 200 comparisons
            left_out = np.fromiter(exclude, dtype=np.int64, count=len(exclude))
            keep &= ~(ids[:, None] == left_out[None, :]).any(axis=1)
        rows = ids[keep].astype(np.int64)
        values = scores[0][keep].astype(np.float64)
        anchor = self.is_anchor[rows]
        guide = np.where(anchor, -2, self.guide_row[rows])
        best_anchor = max(floor, float(values[anchor].max())) if anchor.any() else floor
        in_guide = guide >= 0
        best_guide_chunk = max(floor, float(values[in_guide].max())) if in_guide.any() else floor
        margin = best_anchor - best_guide_chunk
        # Policy passages, in search order: a hit each
        passage = guide == -1
        passage_scores = (1 - weight) * values[passage] + weight * coverage[data.unit_of[rows[passage]]].astype(np.float64)
        # Guides in order of first appearance (the dict order of _score): best chunk, and the second
        positions = np.flatnonzero(in_guide)
        members = guide[positions]
        _, first = np.unique(members, return_index=True)
        first = np.sort(first)  # first appearance order
        top_at = positions[first]
        order = members[first]
        # A guide's second chunk: its first hit after the first one (none: min(top, floor), as in _score)
        second = np.minimum(values[top_at], floor)
        rest = np.ones(len(members), dtype=bool)
        rest[first] = False
        later = np.flatnonzero(rest)
        if len(later):
            seconds, at = np.unique(members[later], return_index=True)
            where = np.minimum(np.searchsorted(seconds, order), len(seconds) - 1)
            has = seconds[where] == order
            second[has] = values[positions[later[at[where[has]]]]]
        best_weight = params.best_chunk_weight
        dense = best_weight * values[top_at] + (1 - best_weight) * second
        lexical = coverage[data.unit_of[rows[top_at]]].astype(np.float64)
        # The mentioned guides' rows, compared with each hit's (a question mentions a few of ~200 hit guides)
        named = np.fromiter((self.row_of[g] for g in mentioned if g in self.row_of), dtype=np.int64)
        bonus = np.where((order[:, None] == named[None, :]).any(axis=1), params.alias_bonus, 0.0).astype(np.float64)
        if name_shares:  # NameGrams.shares, as _score adds them: alias bonus + weight x (share - the most any holds)
            shares = np.array([name_shares.get(self.guide_ids[int(row)], 0.0) for row in order], dtype=np.float64)
            bonus = bonus + data.name_pairs_weight(params.name_pairs_bonus) * (shares - max(name_shares.values()))
        guide_scores = (1 - weight) * dense + weight * lexical + bonus
        fused = np.concatenate([passage_scores, guide_scores])
        if not len(fused):
            return [0.0, 0.0, margin, 0.0], None
        best = int(np.argmax(fused))  # the first of equal scores, as a stable sort puts it
        top = float(fused[best])
        if len(fused) == 1:
            return [top, top, margin, top], self._guide_of(best, len(passage_scores), order)
        runner_up = float(np.max(np.delete(fused, best)))
        # `lead`: the hits in _score's order (a stable sort, best first), the first of the next ones
        # within max_hits that covers the question about as well as the best, else the last of them
        coverages = np.concatenate([coverage[data.unit_of[rows[passage]]].astype(np.float64), lexical])
        ranked = np.argsort(-fused, kind="stable")
        window = ranked[1 : params.max_hits]
        rivals = window[coverages[window] >= params.ambiguity_coverage_share * float(coverages[ranked[0]])]
        lead = top - float(fused[rivals[0]] if len(rivals) else fused[window[-1]]) if len(window) else top
        return [top, top - runner_up, margin, lead], self._guide_of(best, len(passage_scores), order)

    def _guide_of(self, best: int, passages: int, order: np.ndarray) -> str | None:
        """The guide of hit `best` in [passages..., guides...] order (None: a passage)."""
        return None if best < passages else self.guide_ids[int(order[best - passages])]
