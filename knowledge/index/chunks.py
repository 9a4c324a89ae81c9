"""Turn guides and documents into chunks: the units that are embedded, BM25-indexed and returned.

Every chunk's text stands alone (it repeats the guide title and section name), because the
retriever compares a question with one chunk at a time.

Usage::

    from knowledge.index.chunks import guide_chunks

    for chunk in guide_chunks(guide):
        print(chunk.kind, chunk.section, chunk.text[:30])
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from knowledge.sources.aspects import FAQ_SECTION
from knowledge.sources.documents import Document
from knowledge.sources.model import Guide

# Chunk kinds
OVERVIEW = "overview"  # title, aliases, category, department
SECTION = "section"  # one per guide section
FAQ = "faq"  # one per 常见问题 entry
QUESTION = "question"  # a sample user question, a pointer to its guide
PASSAGE = "passage"  # a paragraph of a policy document
ANCHOR = "anchor"  # an out-of-scope example (knowledge/out_of_scope.yml): closer to it means "none"

MAX_SECTION_CHARS = 600  # the embedder reads ~512 tokens; longer sections are cut for embedding only


@dataclass
class Chunk:
    id: str
    kind: str
    text: str  # what is embedded and searched
    title: str  # the guide's or document's title
    guide_id: str | None = None
    section: str | None = None
    content: str = ""  # what is shown: the section body, the FAQ answer, the passage
    source: str = ""  # the guide's source or the document's title
    units: list[str] = field(default_factory=list)  # contact units of a passage
    deadline: str = ""
    number: str = ""  # a passage's document number (文号), from the document's front matter
    date: str = ""  # a passage's document date (YYYY-MM-DD), from the document's front matter

    @cached_property
    def digest(self) -> str:
        """Content hash of the embedded text: unchanged text is never embedded twice."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        # Shallow on purpose: dataclasses.asdict deep-copies every field, which cost 1.45 s per
        # rebuild of a 5,000-guide knowledge base.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


def guide_chunks(guide: Guide) -> list[Chunk]:
    """Overview, one chunk per section, one per FAQ entry and one per sample question."""
    source = guide.source or guide.title
    aliases = "、".join(guide.aliases)
    overview = f"{guide.title}（又称：{aliases}）" if aliases else guide.title
    overview += f"。类别：{guide.category}。实施主体：{guide.department}。"
    chunks = [Chunk(f"{guide.id}#overview", OVERVIEW, overview, guide.title, guide.id, None, overview, source)]
    for heading, section in guide.sections.items():
        if heading == FAQ_SECTION:
            continue
        body = section.text[:MAX_SECTION_CHARS]
        chunks.append(Chunk(
            f"{guide.id}#{heading}", SECTION, f"{guide.title}：{heading}。{body}",
            guide.title, guide.id, heading, section.text, source,
        ))
    for index, faq in enumerate(guide.faqs, start=1):
        chunks.append(Chunk(
            f"{guide.id}#faq-{index}", FAQ, f"{guide.title}：{faq.question} {faq.answer}"[:MAX_SECTION_CHARS],
            guide.title, guide.id, FAQ_SECTION, f"{faq.question}\n{faq.answer}", source,
        ))
    for index, question in enumerate(guide.questions, start=1):
        chunks.append(Chunk(
            f"{guide.id}#q-{index}", QUESTION, question, guide.title, guide.id, None, question, source,
        ))
    return chunks


def anchor_chunks(topics: dict[str, list[str]]) -> list[Chunk]:
    """Out-of-scope examples, embedded so that a question nearer to them than to any guide is refused."""
    return [
        Chunk(f"out-of-scope#{topic}-{index}", ANCHOR, str(text), topic, None, None, str(text))
        for topic, texts in topics.items()
        for index, text in enumerate(texts, start=1)
    ]


def lexical_unit(chunk: Chunk) -> str | None:
    """What BM25 scores a chunk as part of: its whole guide, or the passage alone (anchors: none).

    Scoring the whole guide lets a question's words be found anywhere in it ("公司" in the
    title, "窗口" in 办理地点) instead of all in one section.
    """
    if chunk.kind == ANCHOR:
        return None
    return f"guide:{chunk.guide_id}" if chunk.guide_id else chunk.id


def document_chunks(document: Document) -> list[Chunk]:
    """One chunk per passage; the document title and heading give each passage its context."""
    chunks: list[Chunk] = []
    for index, passage in enumerate(document.passages, start=1):
        context = f"{document.title}" + (f" {passage.heading}" if passage.heading else "")
        chunks.append(Chunk(
            f"{document.path}#{index}", PASSAGE, f"{context}：{passage.text}", document.title,
            None, passage.heading or None, passage.text, document.title,
            passage.contact_units, passage.deadline, document.number, document.date,
        ))
    return chunks
