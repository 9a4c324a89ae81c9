"""A rebuild takes unchanged guides from the serving version's guide table and files (no parsing,
no chunk objects) and still publishes the chunks.jsonl and guides.json that serialising every
guide afresh gives: after edits, additions, deletions, and when the serving version's files are
damaged (then nothing is reused)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from knowledge.index.builder import build_index
from knowledge.index.chunk_rows import GuideEntry
from knowledge.index.chunks import anchor_chunks, document_chunks, guide_chunks
from knowledge.index.embedding import Embedder
from knowledge.index.guide_table import TABLE_FILE, GuideTable
from knowledge.settings import Settings
from knowledge.sources.validation import validate_knowledge_base


def _expected(settings: Settings) -> tuple[bytes, bytes]:
    """chunks.jsonl and guides.json written from freshly parsed objects."""
    result = validate_knowledge_base(settings)
    chunks = [c for g in result.guides for c in guide_chunks(g)] + [c for d in result.documents for c in document_chunks(d)]
    chunks += anchor_chunks(result.out_of_scope)
    lines = "".join(json.dumps(c.as_dict(), ensure_ascii=False) + "\n" for c in chunks).encode("utf-8")
    return lines, json.dumps({g.id: g.as_dict() for g in result.guides}, ensure_ascii=False).encode("utf-8")


def _published(settings: Settings, version: str) -> tuple[bytes, bytes]:
    folder = settings.index_dir / "versions" / version
    return (folder / "chunks.jsonl").read_bytes(), (folder / "guides.json").read_bytes()


def _reused(said: list[str]) -> int:
    return int(said[0].split("沿用上一版本的 ")[1].split(" 个")[0])


def test_added_deleted_and_edited_guides_publish_the_files_of_fresh_objects(kb_copy: Settings, embedder: Embedder) -> None:
    build_index(kb_copy, embedder=embedder, gate=False)
    guides = sorted(kb_copy.guides_dir.glob("*.md"))
    guides = [path for path in guides if path.name.lower() != "readme.md"]
    # Delete one in the middle, edit another, add a copy of a third under a new id: runs of reused guides with gaps.
    guides[5].unlink()
    edited = guides[9].read_text(encoding="utf-8")
    guides[9].write_text(edited.replace("## 办理时限\n", "## 办理时限\n承诺5个工作日办结（表格修订）。\n", 1), encoding="utf-8")
    source = guides[12].read_text(encoding="utf-8")
    copy_id = guides[12].stem + "-copy"
    added = source.replace(f"id: {guides[12].stem}", f"id: {copy_id}", 1)
    added = _rename_names(added)
    (kb_copy.guides_dir / f"{copy_id}.md").write_text(added, encoding="utf-8")
    said: list[str] = []
    report = build_index(kb_copy, embedder=embedder, gate=False, log=said.append)
    assert _reused(said) == len(guides) - 2  # all but the deleted and the edited one; the new one is parsed
    assert _published(kb_copy, report.version) == _expected(kb_copy)
    # and the next build reuses every guide of this one
    said.clear()
    again = build_index(kb_copy, embedder=embedder, gate=False, log=said.append)
    assert _reused(said) == report.guides
    assert _published(kb_copy, again.version) == _expected(kb_copy)


def _rename_names(text: str) -> str:
    """A copied guide needs a title and aliases of its own (validation refuses shared names)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith("title:"):
            lines[index] = line + "（副本）"
        if line.startswith("aliases:"):
            lines[index] = "aliases: []"
    return "\n".join(lines)


def test_a_damaged_serving_version_is_not_reused(kb_copy: Settings, embedder: Embedder) -> None:
    first = build_index(kb_copy, embedder=embedder, gate=False)
    folder = kb_copy.index_dir / "versions" / first.version
    # Plausible but wrong: one guide's recorded title changed in the table (only the checksum tells)
    with np.load(folder / TABLE_FILE) as stored:
        damaged = {name: stored[name] for name in stored.files}
    meta = json.loads(damaged["meta"].tobytes().decode("utf-8"))
    meta[0][1] = "被改过的标题"
    damaged["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    with open(folder / TABLE_FILE, "wb") as handle:
        np.savez(handle, **damaged)
    said: list[str] = []
    second = build_index(kb_copy, embedder=embedder, gate=False, log=said.append)
    assert _reused(said) == 0
    assert _published(kb_copy, second.version) == _expected(kb_copy)

    # A damaged chunks.jsonl of the serving version: its byte ranges are not copied either
    chunks = kb_copy.index_dir / "versions" / second.version / "chunks.jsonl"
    chunks.write_bytes(chunks.read_bytes().replace("材料".encode(), "资料".encode(), 1))
    said.clear()
    third = build_index(kb_copy, embedder=embedder, gate=False, log=said.append)
    assert _reused(said) == 0
    assert _published(kb_copy, third.version) == _expected(kb_copy)


def test_guide_entry_is_the_whole_entry_for_every_reader(tmp_path: Path) -> None:
    full = {"id": "g", "title": "用水报装", "aliases": ["装自来水"], "category": "水电气", "sections": {"申请材料": {"text": "身份证"}}}
    loads: list[int] = []

    def load() -> dict:
        loads.append(1)
        return json.loads(json.dumps(full))

    entry = GuideEntry({"id": "g", "title": "用水报装", "aliases": ["装自来水"]}, load)
    assert entry["aliases"] == ["装自来水"] and entry["title"] == "用水报装" and not loads  # no parsing for these
    assert entry["sections"]["申请材料"]["text"] == "身份证" and loads == [1]
    assert json.dumps(entry, ensure_ascii=False) == json.dumps(full, ensure_ascii=False)
    for made in (lambda: GuideEntry({"id": "g"}, load),):
        assert dict(made()) == full and {**made()} == full and made() == full and made().get("category") == "水电气"
        assert "category" in made() and list(made()) == list(full) and len(made()) == len(full)
    try:
        entry["missing"]
    except KeyError:
        pass
    else:
        raise AssertionError("a missing key must raise KeyError")


def test_the_gate_sees_the_serving_version_as_the_answering_processes_do(kb_copy: Settings, embedder: Embedder) -> None:
    from knowledge.index.bm25 import Tokenizer
    from knowledge.index.evaluation import load_question_set
    from knowledge.index.parse_cache import ParseCache
    from knowledge.index.published import lazy_index_data
    from knowledge.retrieval.index_data import IndexData
    from knowledge.retrieval.retriever import RetrievalParams, Retriever

    report = build_index(kb_copy, embedder=embedder, gate=False)
    folder = kb_copy.index_dir / "versions" / report.version
    with ParseCache(kb_copy.embedding_cache) as cache:
        table = GuideTable.load(folder, cache.parts_code)
    assert table is not None
    words = json.loads((folder / "user_words.json").read_text(encoding="utf-8"))
    lazy = lazy_index_data(folder, table, Tokenizer(words), depth=kb_copy.dense_candidates + 64)
    assert lazy is not None
    params = RetrievalParams.from_settings(kb_copy)
    quick, loaded = Retriever(lazy, params, embedder), Retriever(IndexData(folder), params, embedder)
    questions = ["开公司要带什么材料", "装自来水多久能通水", "公司注销要多久", "燃气开户多少钱", "今天天气怎么样", "营业执照丢了怎么办",
                 "施工许可证在哪里办", "个体户营业执照怎么办"]
    asked = load_question_set(kb_copy.eval_questions)  # answered from the version's neighbour lists
    questions += [item["q"] for item in asked["in_scope"][:40]] + asked["off_topic"][:20]
    for question in questions:
        a, b = quick.run(question), loaded.run(question)
        assert (a.decision, a.guide_id, a.confidence, a.in_scope, a.sure, a.sole_share) == (
            b.decision, b.guide_id, b.confidence, b.in_scope, b.sure, b.sole_share), question
        assert [(c.guide_id, c.score) for c in a.candidates] == [(c.guide_id, c.score) for c in b.candidates], question
        assert a.guide == b.guide and a.sections == b.sections, question
        assert [h.chunk.as_dict() for h in a.hits] == [h.chunk.as_dict() for h in b.hits], question
    assert quick.data.dense.reused > 0  # type: ignore[attr-defined]
    assert lazy.everyday_words == IndexData(folder).everyday_words and lazy.everyday_words  # the words learnt with its model
    assert [c.as_dict() for c in lazy.chunks] == [c.as_dict() for c in IndexData(folder).chunks]
    # A damaged file of the version: not loaded this way (the gate then has nothing or IndexData's error)
    (folder / "guides.json").write_bytes((folder / "guides.json").read_bytes().replace("材料".encode(), "资料".encode(), 1))
    assert lazy_index_data(folder, table, Tokenizer(words)) is None


def test_an_unchanged_guide_keeps_its_title_line_for_a_duplicate_title_found_later(kb_copy: Settings, embedder: Embedder) -> None:
    """A new guide repeats the title of an unchanged one, whose file comes later: the unchanged guide (read from the
    serving version's table, not parsed) is named on its title's line, not on line 1."""
    from knowledge.index.builder import BuildError

    build_index(kb_copy, embedder=embedder, gate=False)
    original = (kb_copy.guides_dir / "water-connection.md").read_text(encoding="utf-8")
    title_line = next(number for number, line in enumerate(original.splitlines(), 1) if line.startswith("title:"))
    assert title_line > 1
    (kb_copy.guides_dir / "water-aaa.md").write_text(original.replace("id: water-connection", "id: water-aaa"), encoding="utf-8")
    try:
        build_index(kb_copy, embedder=embedder, gate=False)
    except BuildError as error:
        said = [f"{p.path}:{p.line}: {p.message}" for p in error.problems or []]
    else:
        raise AssertionError("a duplicate title must stop the build")
    assert any(f"water-connection.md:{title_line}: 标题" in line for line in said), said
