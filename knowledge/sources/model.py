"""The `Guide` type and its parts: what the guide reader (knowledge/sources/guides.py) produces
and every later stage (chunks, index, replies, the hall API's guide cards) consumes.

Usage::

    guide, problems = parse_guide(path)      # knowledge.sources.guides
    guide.section("申请材料").items           # -> ["营业执照副本", …]
    guide.as_dict()                           # JSON-ready, as stored in an index version's guides.json
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.sources.aspects import FAQ_SECTION

DEFAULT_COMPLAINT_PHONE = "12345"


@dataclass(frozen=True)
class Problem:
    """One validation finding, printed as ``file:line: message``."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" stops a build; "warning" is only reported

    def __str__(self) -> str:
        prefix = "警告：" if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Contact:
    unit: str
    phone: str
    address: str = ""
    hours: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"unit": self.unit, "phone": self.phone, "address": self.address, "hours": self.hours}


@dataclass
class Section:
    heading: str
    line: int
    text: str = ""  # the section body as written (Markdown)
    items: list[str] = field(default_factory=list)  # numbered items, for list sections


@dataclass
class Faq:
    question: str
    answer: str
    line: int


@dataclass
class Guide:
    id: str
    title: str
    category: str
    department: str
    contacts: list[Contact]
    updated: str
    questions: list[str]
    path: str
    aliases: list[str] = field(default_factory=list)
    complaint_phone: str = DEFAULT_COMPLAINT_PHONE
    region: str = ""
    source: str = ""
    sections: dict[str, Section] = field(default_factory=dict)
    faqs: list[Faq] = field(default_factory=list)
    alias_lines: dict[str, int] = field(default_factory=dict)
    id_line: int = 1

    def section(self, heading: str) -> Section | None:
        return self.sections.get(heading)

    def as_dict(self) -> dict[str, Any]:
        """The structured guide as JSON-ready data (for APIs and printable notices)."""
        return {
            "id": self.id,
            "title": self.title,
            "aliases": list(self.aliases),
            "category": self.category,
            "department": self.department,
            "contacts": [contact.as_dict() for contact in self.contacts],
            "complaint_phone": self.complaint_phone,
            "region": self.region,
            "updated": self.updated,
            "source": self.source,
            "questions": list(self.questions),
            "sections": {
                heading: {"text": section.text, "items": list(section.items)}
                for heading, section in self.sections.items()
                if heading != FAQ_SECTION
            },
            "faqs": [{"question": faq.question, "answer": faq.answer} for faq in self.faqs],
        }
