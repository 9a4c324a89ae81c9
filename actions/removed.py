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

from actions.dialogue import names_an_item
from knowledge.retrieval.removed import RemovedGuides
from knowledge.retrieval.retriever import Retriever


def removed_matter(retriever: Retriever, text: str, *, picked: str | None, current: str | None) -> dict[str, Any] | None:
    """The removed guide this message is about: the one it picks from an earlier offer, the one it names and nothing
    else besides how it asks (no guide still published named as long), or the conversation's matter when the message
    names no other item ("那要多久？"). None when the message is about something the index has."""
    removed = RemovedGuides.of(retriever.data)
    if not len(removed):
        return None
    if picked is not None:
        return removed.get(picked) if retriever.guide(picked) is None else None
    found = removed.match(text, retriever.data.names)
    # Only a message about that matter alone ("用气报装要什么材料", "天然气开户多少钱"): one that names other things too
    # ("我个人能不能开网吧，还是非得注册公司" after 企业开办 was removed) mentions it on the way to a matter of its own.
    if found is not None and not names_an_item(text.lower().replace(found[1], "，")):
        return found[0]
    if current and retriever.guide(current) is None and not names_an_item(text):
        return removed.get(current)
    return None
