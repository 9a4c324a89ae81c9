"""Policy documents: cleaning, re-joining, chunking and unit/deadline extraction, on the real seeds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest

from knowledge.sources.documents import (
    MAX_PASSAGE_CHARS,
    Document,
    Passage,
    chunk_passages,
    clean_lines,
    extract_fields,
    parse_document,
    wrap_width,
)
from tests.support import DOCUMENTS, SEEDS

# _split_long keeps an item's first sentence ("(二)推行惠企政策免申即享和精准推送。") as the lead of
# a split piece when it is at most 60 characters, so a piece may exceed MAX_PASSAGE_CHARS by that much.
LEAD_ALLOWANCE = 60

SEED_REPORT = "002_54ee83bbaa690066.txt"  # ***县行政审批服务局 工作情况报告
SEED_PLAN = "004_695f18a48b8a2c3f.txt"  # 华容区2022年营商环境创优行动方案 (with website furniture)
SHIPPED_REPORT = "county-approval-bureau-business-environment-report.txt"
SHIPPED_PLAN = "huarong-2022-business-environment-action-plan.txt"

ALL_REAL = [SEEDS / SEED_REPORT, SEEDS / SEED_PLAN, DOCUMENTS / SHIPPED_REPORT, DOCUMENTS / SHIPPED_PLAN]
PLANS = [SEEDS / SEED_PLAN, DOCUMENTS / SHIPPED_PLAN]


def load(path: Path) -> Document:
    document, problems = parse_document(path)
    assert problems == [], [str(problem) for problem in problems]
    assert document is not None
    return document


def passage_with(document: Document, words: str) -> Passage:
    found = [passage for passage in document.passages if words in passage.text]
    assert found, f"no passage mentions {words}"
    return found[0]


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


# --- the real documents ------------------------------------------------------------------------


def test_seed_and_shipped_documents_exist() -> None:
    for path in ALL_REAL:
        assert path.is_file(), path


@pytest.mark.parametrize("path", ALL_REAL, ids=lambda path: path.name)
def test_furniture_lines_are_gone(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    document = load(path)
    texts = [passage.text for passage in document.passages]
    joined = "\n".join(texts)
    for furniture in ("Copyright", "主办单位", "ICP备", "网站标识", "![]()", "系统管理入口", "点击总量"):
        assert furniture not in joined
    assert "2022年3月11日印发" not in joined  # the 版记 line of the official document
    assert not any(text.endswith("|") or text.startswith("|") for text in texts)
    if "Copyright" in raw:  # the plan really had the footer: it was there to remove
        assert "![]() |" in raw and "2022年3月11日印发" in raw


@pytest.mark.parametrize("path", ALL_REAL, ids=lambda path: path.name)
def test_no_passage_is_too_long_or_too_short(path: Path) -> None:
    for passage in load(path).passages:
        assert len(passage.text) <= MAX_PASSAGE_CHARS + LEAD_ALLOWANCE, passage.text[:40]
        assert len(passage.text) >= 16


@pytest.mark.parametrize("path", PLANS, ids=lambda path: path.name)
def test_policy_passage_has_its_lead_units_and_deadline(path: Path) -> None:
    passage = passage_with(load(path), "惠企政策免申即享")
    assert passage.lead_units == ["区财政局", "区发改经信局", "区行政审批局"]
    assert "2022年6月底" in passage.deadline
    assert passage.units == ["人文环境组", "区人社局", "区医保局", "区税务局", "区金融办"]
    assert passage.contact_units[:3] == ["区财政局", "区发改经信局", "区行政审批局"]
    assert passage.heading == "二、目标任务"


@pytest.mark.parametrize("path", PLANS, ids=lambda path: path.name)
def test_monitoring_passage_has_its_lead_unit_and_deadline(path: Path) -> None:
    passage = passage_with(load(path), "监测行动")
    assert passage.text.startswith("(一)开展优化营商环境监测行动")
    assert passage.lead_units == ["区优化办"]
    assert passage.deadline == "2022年8月底"
    assert passage.units == ["区直各评价指标单位"]  # the stray ")" of the original is not part of the name


@pytest.mark.parametrize("path", PLANS, ids=lambda path: path.name)
def test_plan_headings_become_passage_headings(path: Path) -> None:
    document = load(path)
    headings = [passage.heading for passage in document.passages]
    assert {"一、总体要求", "二、目标任务", "三、保障措施"} <= set(headings)
    assert not any(passage.text in {"一、总体要求", "二、目标任务", "三、保障措施"} for passage in document.passages)
    assert passage_with(document, "加强组织领导").heading == "三、保障措施"
    assert passage_with(document, "持续推进“双千工程”").heading == "二、目标任务"
    assert passage_with(document, "坚持“两个确立”").heading == "一、总体要求"
    # Each of the ten tasks (一)…(十) under 二、目标任务 names its lead unit(s) and a deadline.
    tasks = [passage for passage in document.passages if passage.heading == "二、目标任务"]
    assert len({passage.line for passage in tasks}) == 10
    assert all(passage.lead_units and passage.deadline.startswith("2022年") for passage in tasks)


@pytest.mark.parametrize("path", [SEEDS / SEED_REPORT, DOCUMENTS / SHIPPED_REPORT], ids=lambda path: path.name)
def test_report_headings_and_lines(path: Path) -> None:
    document = load(path)
    assert [heading for heading in dict.fromkeys(passage.heading for passage in document.passages)] == [
        "", "一、工作开展情况", "二、存在的困难和问题", "三、下一步工作打算",
    ]
    passage = passage_with(document, "简易注销")
    assert passage.heading == "一、工作开展情况"
    raw_lines = path.read_text(encoding="utf-8").splitlines()
    assert "简易注销" in raw_lines[passage.line - 1]  # the line number points at the source line
    assert all(passage.lead_units == [] and passage.deadline == "" for passage in document.passages)


def test_seed_titles_come_from_file_names_and_shipped_from_front_matter() -> None:
    assert load(SEEDS / SEED_PLAN).title == "004"  # the crawl hash suffix is dropped
    shipped = load(DOCUMENTS / SHIPPED_PLAN)
    assert shipped.title == "华容区2022年营商环境创优行动方案"
    assert shipped.source == "华容区优化营商环境领导小组办公室"
    assert shipped.date == "2022-03-11"
    assert shipped.region == "华容区"


def test_seed_and_shipped_plan_have_the_same_passages() -> None:
    seed, shipped = load(SEEDS / SEED_PLAN), load(DOCUMENTS / SHIPPED_PLAN)
    assert [passage.text for passage in seed.passages] == [passage.text for passage in shipped.passages]
    offset = shipped.passages[0].line - seed.passages[0].line
    assert offset == 6  # the front matter is 6 lines; line numbers still point into the file
    assert all(b.line - a.line == offset for a, b in zip(seed.passages, shipped.passages, strict=True))


def test_real_documents_are_not_taken_for_hard_wrapped_text() -> None:
    for path in ALL_REAL:
        assert wrap_width(path.read_text(encoding="utf-8").splitlines()) is None


def test_each_piece_of_a_split_item_keeps_the_item_title() -> None:
    document = load(SEEDS / SEED_PLAN)
    pieces = [passage for passage in document.passages if passage.line == passage_with(document, "红顶中介").line]
    assert len(pieces) == 2
    assert all(piece.text.startswith("(三)大力整治“红顶中介”。") for piece in pieces)


# --- synthetic texts ---------------------------------------------------------------------------

WRAPPED = """一、工作目标
为进一步优化营商环境，提升政务服务效能，方便企业和群
众办事，区政务服务中心决定在全区范围内推行帮办代办服
务，具体安排通知如下。
(一)设立帮办代办窗口，为企业提供免费的全程代办服务
和政策咨询，做到专人负责、全程跟踪、限时办结到位。
- 2 -
(二)推行延时错时服务，工作日中午和周末安排人员值
班，保证群众随时都能办成事，不让群众白跑一趟冤枉路。
第3页 共5页
二、工作要求
各单位要高度重视，明确专人负责帮办代办工作，确保各
项措施落到实处，取得实效，具体要求分为以下三个方面
1.加强组织领导，主要负责同志亲自部署推动帮办代办。
三、持续深化政务服务改革全面提升企业和群众办事满意度
推行告知承诺和容缺受理，让企业少跑腿、快办事。
"""


def test_hard_wrapped_text_is_rejoined_into_paragraphs() -> None:
    lines = numbered(WRAPPED)
    assert wrap_width([text for _number, text in lines]) == 26
    assert clean_lines(lines) == [
        (1, "一、工作目标"),
        (2, "为进一步优化营商环境，提升政务服务效能，方便企业和群众办事，区政务服务中心决定在全区范围内推行帮办代办服务，具体安排通知如下。"),
        (5, "(一)设立帮办代办窗口，为企业提供免费的全程代办服务和政策咨询，做到专人负责、全程跟踪、限时办结到位。"),
        (8, "(二)推行延时错时服务，工作日中午和周末安排人员值班，保证群众随时都能办成事，不让群众白跑一趟冤枉路。"),
        (11, "二、工作要求"),
        (12, "各单位要高度重视，明确专人负责帮办代办工作，确保各项措施落到实处，取得实效，具体要求分为以下三个方面"),
        (14, "1.加强组织领导，主要负责同志亲自部署推动帮办代办。"),  # a list item is never glued on
        (15, "三、持续深化政务服务改革全面提升企业和群众办事满意度"),  # nor is anything glued to a heading
        (16, "推行告知承诺和容缺受理，让企业少跑腿、快办事。"),
    ]


def test_rejoined_paragraphs_become_passages_under_their_headings() -> None:
    passages = chunk_passages(clean_lines(numbered(WRAPPED)))
    assert [(passage.line, passage.heading) for passage in passages] == [
        (2, "一、工作目标"), (5, "一、工作目标"), (8, "一、工作目标"), (12, "二、工作要求"), (14, "二、工作要求"),
        (16, "三、持续深化政务服务改革全面提升企业和群众办事满意度"),
    ]


def test_whole_paragraph_lines_are_not_joined() -> None:
    # Lines of very different lengths are whole paragraphs (a Word or web export), not a hard wrap.
    text = "\n".join([
        "为进一步优化营商环境，提升政务服务效能，方便企业和群众办事，现就推行帮办代办服务有关事项通知如下",
        "一是全面推行帮办代办服务",
        "二是推行延时错时服务，工作日中午和周末安排人员值班，保证群众随时都能办成事",
        "三是畅通投诉渠道，企业可拨打热线反映问题",
    ])
    lines = numbered(text)
    assert wrap_width([line for _number, line in lines]) is None
    assert clean_lines(lines) == lines


def test_a_blank_line_ends_a_paragraph_even_in_wrapped_text() -> None:
    text = WRAPPED.replace("众办事，区政务服务中心决定在全区范围内推行帮办代办服\n", "众办事，区政务服务中心决定在全区范围内推行帮办代办服\n\n")
    paragraphs = [paragraph for _number, paragraph in clean_lines(numbered(text))]
    assert "务，具体安排通知如下。" in paragraphs


@pytest.mark.parametrize("line", ["- 2 -", "—3—", "12", "第3页 共5页", "共 5 页", "3/5", "![](https://x.cn/a.png) |", "|", "||",
                                  "版权所有：示例区人民政府", "扫一扫在手机打开当前页", "【打印】【关闭】",
                                  "示例区人民政府办公室 2022年3月11日印发", "更多精彩请关注公众号"])
def test_furniture_line_is_dropped(line: str) -> None:
    content = "本通知自印发之日起施行，由区政务服务中心负责解释。"
    assert clean_lines([(1, content), (2, line), (3, content)]) == [(1, content), (3, content)]


def test_content_that_mentions_printing_is_kept() -> None:
    line = "现印发给你们，请认真贯彻执行，并于每月22日前报送工作完成情况。"
    assert clean_lines([(1, line)]) == [(1, line)]


def test_short_lines_are_not_passages() -> None:
    passages = chunk_passages([(1, "区政务服务中心"), (2, "2022年3月11日"), (3, "本通知自印发之日起施行，由区政务服务中心负责解释。")])
    assert [passage.line for passage in passages] == [3]


def test_long_paragraph_is_split_at_sentence_ends() -> None:
    sentence = "企业可以通过网上平台提交申请材料，并随时查询办理进度和结果。"
    text = "(二)推行惠企政策免申即享。" + sentence * 20
    passages = chunk_passages([(7, text)])
    assert len(passages) >= 2
    assert all(len(passage.text) <= MAX_PASSAGE_CHARS + LEAD_ALLOWANCE for passage in passages)
    assert all(passage.line == 7 for passage in passages)
    assert all(passage.text.endswith("。") for passage in passages)  # never cut mid-sentence
    assert passages[0].text.startswith("(二)推行惠企政策免申即享。")
    assert "".join(passage.text for passage in passages).count(sentence) == 20  # nothing lost


@pytest.mark.parametrize(("text", "lead", "units", "deadline"), [
    ("〔牵头单位:区财政局、区发改经信局;责任单位:区人社局等;完成时限:2022年12月底〕", ["区财政局", "区发改经信局"], ["区人社局"], "2022年12月底"),
    ("(责任专项组：政务环境组；牵头单位：区行政审批局；责任单位：区直各窗口单位；完成时限：2022年4月底，长期推进)",
     ["区行政审批局"], ["政务环境组", "区直各窗口单位"], "2022年4月底，长期推进"),
    ("全面推行帮办代办服务，没有分工说明。", [], [], ""),
])
def test_extract_fields(text: str, lead: list[str], units: list[str], deadline: str) -> None:
    assert extract_fields(text) == (lead, units, deadline)


# --- files -------------------------------------------------------------------------------------


def test_docx_document_is_parsed(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_paragraph("一、办理事项")
    word.add_paragraph("企业开办实行一窗受理，设立登记、印章刻制、社保登记和银行开户一次办结。〔牵头单位:区行政审批局;完成时限:2022年6月底〕")
    word.add_paragraph("- 2 -")
    word.add_paragraph("二、咨询方式")
    table = word.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "咨询电话"
    table.rows[0].cells[1].text = "0000-1234567，工作日9:00-17:00，节假日除外"
    path = tmp_path / "一窗受理通知_0123456789abcdef.docx"
    word.save(str(path))

    document, problems = parse_document(path)
    assert problems == [] and document is not None
    assert document.title == "一窗受理通知"
    assert [(passage.line, passage.heading) for passage in document.passages] == [(2, "一、办理事项"), (5, "二、咨询方式")]
    first, table_row = document.passages
    assert first.lead_units == ["区行政审批局"] and first.deadline == "2022年6月底"
    assert table_row.text.startswith("咨询电话 0000-1234567")


def test_docx_that_is_a_zip_but_not_word_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a Word document")
    document, problems = parse_document(path)
    assert document is None
    assert [(problem.line, problem.is_error) for problem in problems] == [(1, True)]
    assert "无法读取 Word 文件" in problems[0].message


def test_docx_that_is_not_a_zip_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "old-word-97.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)  # an OLE2 (.doc) header
    document, problems = parse_document(path)
    assert document is None
    assert [(problem.line, problem.is_error) for problem in problems] == [(1, True)]


def test_non_utf8_text_reports_its_line(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(b"Notice 2022\n\n" + "本通知自印发之日起施行，由区政务服务中心负责解释。\n".encode("gbk"))
    document, problems = parse_document(path, display_path="documents/gbk.txt")
    assert document is None
    assert [str(problem) for problem in problems] == ["documents/gbk.txt:3: 文件不是 UTF-8 编码，请另存为 UTF-8"]


@pytest.mark.parametrize("content", ["", "\n\n   \n", "- 1 -\n第1页 共1页\n主办单位:示例区人民政府 Copyright 2022 承办:办公室\n"])
def test_empty_document_reports_a_problem(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.txt"
    path.write_text(content, encoding="utf-8")
    document, problems = parse_document(path, display_path="documents/empty.txt")
    assert document is None
    assert [str(problem) for problem in problems] == ["documents/empty.txt:1: 文件清理后没有可用的正文段落"]


def test_markdown_document_with_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "notice.md"
    path.write_text(
        "---\ntitle: 帮办代办通知\nsource: 示例区政务服务中心\ndate: 2022-05-01\nauthor: 张三\n---\n"
        "一、工作安排\n全面推行帮办代办服务，为企业提供免费的全程代办服务。\n",
        encoding="utf-8",
    )
    document, problems = parse_document(path)
    assert document is not None
    assert (document.title, document.source, document.date) == ("帮办代办通知", "示例区政务服务中心", "2022-05-01")
    assert [(problem.severity, "未知字段 author" in problem.message) for problem in problems] == [("warning", True)]
    assert [(passage.line, passage.heading) for passage in document.passages] == [(8, "一、工作安排")]


def test_document_number_comes_from_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "notice.md"
    path.write_text("---\ntitle: 帮办代办通知\nnumber: 示政办发〔2024〕3号\ndate: 2024-03-01\n---\n"
                    "全面推行帮办代办服务，为企业提供免费的全程代办服务。\n", encoding="utf-8")
    document, problems = parse_document(path)
    assert problems == []  # `number` is a field of its own, no unknown one
    assert document is not None and (document.number, document.date) == ("示政办发〔2024〕3号", "2024-03-01")
    assert load(DOCUMENTS / SHIPPED_PLAN).number == ""  # none given: nothing is made up


@pytest.mark.parametrize("value", ['"2022-02-30"', "2022-02-30"])
def test_document_with_invalid_date_is_reported(tmp_path: Path, value: str) -> None:
    path = tmp_path / "notice.txt"
    path.write_text(f"---\ntitle: 通知\ndate: {value}\n---\n全面推行帮办代办服务，为企业提供免费的全程代办服务。\n", encoding="utf-8")
    document, problems = parse_document(path)
    assert document is not None and document.date == ""
    assert [problem.is_error for problem in problems] == [True]
    assert "日期“2022-02-30”无效" in problems[0].message
    assert problems[0].line == 3  # the line of `date:`


def test_document_with_bad_front_matter_reports_its_line(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("---\ntitle: 通知\nsource: 区: 政务中心\n---\n全面推行帮办代办服务，为企业提供免费的全程代办服务。\n", encoding="utf-8")
    document, problems = parse_document(path)
    assert document is None
    assert [(problem.line, "YAML 语法错误" in problem.message) for problem in problems] == [(3, True)]


def test_document_front_matter_error_is_explained_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("---\ntitle: 通知\nsource: 区: 政务中心\n---\n全面推行帮办代办服务，为企业提供免费的全程代办服务。\n", encoding="utf-8")
    _document, problems = parse_document(path)
    assert [problem.line for problem in problems] == [3]
    assert problems[0].message.startswith("YAML 语法错误：这一行多了一个冒号")


def test_misspelt_document_key_is_named_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "notice.md"
    path.write_text("---\nsource: 示例区政务服务中心\ntitel: 帮办代办通知\n---\n全面推行帮办代办服务，为企业提供免费的全程代办服务。\n",
                    encoding="utf-8")
    document, problems = parse_document(path, display_path="documents/notice.md")
    assert [str(problem) for problem in problems] == ["documents/notice.md:3: 警告：未知字段 titel，是不是 title？这一项现在不起作用"]
    assert document is not None and document.title == "notice"
