"""Full-width letters and digits ("ＣＡ", "２０２６") in a guide's body or FAQ, or in a policy document: indexed as
written (only titles and aliases are read as half-width), so a question, read as half-width, does not find them.
Validation warns on the line with the text and its half-width form; never an error: the build publishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.settings import Settings, load_settings
from knowledge.sources.documents import parse_document
from knowledge.sources.full_width import full_width_words
from knowledge.sources.validation import validate_knowledge_base
from tests.support import guide_text, run_cli, write_guide

pytestmark = pytest.mark.unit

MATERIAL = "2. 申请人身份证复印件1份"
ANSWER = "可以。\n### 要本人到场吗？"  # the first FAQ's answer, then the second question


def _settings(tmp_path: Path) -> Settings:
    return load_settings(guides_dir=tmp_path / "guides", documents_dir=tmp_path / "documents", out_of_scope_file=tmp_path / "none.yml")


def _line(text: str, part: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if part in line)


def test_full_width_letters_and_digits_in_a_guide_body_and_faq_are_warnings_on_their_lines(tmp_path: Path) -> None:
    text = guide_text().replace(MATERIAL, "2. ＣＡ数字证书（Ｕ盾）1份").replace(ANSWER, "可以，２０２６年起全程网办。\n### 要本人到场吗？")
    settings = _settings(tmp_path)
    path = write_guide(settings.guides_dir, text=text)
    result = validate_knowledge_base(settings)
    assert result.ok and len(result.guides) == 1  # a warning never stops a build
    assert [str(problem) for problem in result.problems] == [
        f"{path}:{_line(text, 'ＣＡ')}: 警告：“ＣＡ”“Ｕ”是全角字母或数字：问题和标题、别名里的全角字母数字都读成半角，正文却照原样建索引，"
        "群众问“CA”“U”时检索对不上这里。请改写成半角“CA”“U”（不改也照原样发布）",
        f"{path}:{_line(text, '２０２６')}: 警告：“２０２６”是全角字母或数字：问题和标题、别名里的全角字母数字都读成半角，正文却照原样建索引，"
        "群众问“2026”时检索对不上这里。请改写成半角“2026”（不改也照原样发布）",
    ]
    assert all(problem.severity == "warning" for problem in result.problems)


def test_half_width_text_chinese_punctuation_and_the_title_raise_nothing(tmp_path: Path) -> None:
    # Full-width punctuation is ordinary Chinese; a title or alias in full-width is read as half-width already.
    text = guide_text(title="ＣＡ证书办理", alias="Ｕ盾").replace(MATERIAL, "2. CA数字证书（U盾）1份，2026年起可网办？")
    settings = _settings(tmp_path)
    write_guide(settings.guides_dir, text=text)
    result = validate_knowledge_base(settings)
    assert result.ok and not result.problems, [str(problem) for problem in result.problems]
    assert result.guides[0].title == "CA证书办理"


def test_a_word_is_shown_whole_as_typed() -> None:
    assert full_width_words("Ｂ2驾照、ｂ２、B2、KTV、ＫＴＶ，ＫＴＶ？") == ["Ｂ2", "ｂ２", "ＫＴＶ"]


def test_a_policy_document_line_with_full_width_digits_is_a_warning_page_furniture_is_not(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("关于支持中小企业发展的若干措施\n\n一、对年营业收入首次超过２０００万元的企业给予一次性奖励。（牵头单位：区财政局）\n\n- ３ -\n",
                    encoding="utf-8")
    document, problems = parse_document(path, "documents/plan.txt")
    assert document is not None and document.passages  # published as written
    assert [(problem.line, problem.severity) for problem in problems] == [(3, "warning")]
    assert str(problems[0]).startswith("documents/plan.txt:3: 警告：“２０００”是全角字母或数字") and "半角“2000”" in str(problems[0])


def test_validate_shows_the_warning_and_passes(kb_copy: Settings) -> None:
    """As an admin sees it: `index_builder.py validate` prints file:line: 警告：… and exits 0 (build publishes the same way)."""
    path = kb_copy.guides_dir / "company-setup.md"
    text = path.read_text(encoding="utf-8").replace("6. 委托代理人办理的", "6. 用ＣＡ数字证书网上签名的不需要，委托代理人办理的")
    path.write_text(text, encoding="utf-8")
    result = run_cli(kb_copy, "validate")
    assert result.returncode == 0 and "校验通过" in result.stdout and "警告 1 个" in result.stdout, result.stdout + result.stderr
    assert f"company-setup.md:{_line(text, 'ＣＡ')}: 警告：“ＣＡ”是全角字母或数字" in result.stderr
    assert "请改写成半角“CA”" in result.stderr
