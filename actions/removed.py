"""A guide an admin removed, asked about: say so, never answer with the nearest guide left.

An admin deletes a guide (the procedure was abolished or handed over) and rebuilds while citizens talk to
the assistant. A citizen who names it ("用气报装要什么材料"), picks it from a list offered before the rebuild
("1"), or follows up on it ("那要多久？" while it was the conversation's matter) would otherwise get the
guide closest to its words (用电报装) as if it were the answer. The index remembers removed guides
(knowledge/retrieval/removed.py); this module decides when a message is about one.

Usage::

    entry = removed_matter(retriever, text, picked=None, current=tracker.get_slot(SLOT_GUIDE))
    if entry is not None:
        reply = replies.removed_guide(entry["id"], entry["title"], hotline)
"""

from __future__ import annotations

from typing import Any

from actions.dialogue import DESCRIBED_ITEM_CHARS, begins_with_no, begins_with_yes, names_an_item, own_words
from knowledge.retrieval.removed import RemovedGuides
from knowledge.retrieval.retriever import Retriever


def removed_matter(retriever: Retriever, text: str, *, picked: str | None, current: str | None,
                   confirming: str | None = None) -> dict[str, Any] | None:
    """The removed guide this message is about: the one it picks from an earlier offer, the one it names without
    describing a matter of its own besides (no guide still published named as long), the one a confirm still open
    asked about when the message says yes or asks on without an item ("是的，收费吗", "要多久"), or the
    conversation's matter when the message names no other item ("那要多久？"). None when the message is about
    something the index has."""
    removed = RemovedGuides.of(retriever.data)
    if not len(removed):
        return None
    if picked is not None:
        return removed.get(picked) if retriever.guide(picked) is None else None
    found = removed.match(text, retriever.data.names)
    # The matter itself, maybe with a word on who asks ("居民用气报装收费吗", "用气报装取消了吗"); a message that describes
    # a matter of its own ("我个人能不能开网吧，还是非得注册公司" after 企业开办 was removed) mentions it on the way.
    if found is not None and len(own_words(text.lower().replace(found[1], "，"))) < DESCRIBED_ITEM_CHARS:
        return found[0]
    if (confirming and retriever.guide(confirming) is None and not begins_with_no(text)
            and (begins_with_yes(text) or not names_an_item(text))):
        return removed.get(confirming)
    if current and retriever.guide(current) is None and not names_an_item(text):
        return removed.get(current)
    return None
