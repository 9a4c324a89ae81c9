"""Offices named in a question, in full or shortened (knowledge/retrieval/offices.py), on a tiny made-up directory."""

from __future__ import annotations

import pytest

from knowledge.retrieval.offices import AUTHORITY_KINDS, OfficeDirectory


def _guide(guide_id: str, department: str, *units: str, region: str = "青禾区") -> dict:
    return {"id": guide_id, "department": department, "region": region,
            "contacts": [{"unit": unit, "phone": f"0000-99{index:05d}", "address": "青禾区行政中心", "hours": "工作日"}
                         for index, unit in enumerate(units)]}


GUIDES = {guide["id"]: guide for guide in [
    _guide("hunting", "青禾区林业和草原局", "青禾区林业和草原局野生动植物保护科", "青禾区政务服务中心自然资源和林草窗口"),
    _guide("grassland", "青禾区林业和草原局", "青禾区林业和草原局草原管理科", "青禾区政务服务中心自然资源和林草窗口"),
    _guide("skills", "青禾区人力资源和社会保障局", "青禾区人力资源和社会保障局职业能力建设科"),
    _guide("microloan", "青禾区地方金融发展服务中心", "青禾区地方金融发展服务中心（区金融办）机构监管科"),
    _guide("residence", "青禾区公安分局", "青禾区公安分局城关派出所户籍室"),
    _guide("gas", "青禾区燃气有限公司", "青禾区燃气有限公司客户服务中心"),
    _guide("fund", "禾阳市住房公积金管理中心", "禾阳市住房公积金管理中心青禾区管理部归集科"),
    _guide("outside", "澄渊市公安局澜沚分局", "澄渊市公安局澜沚分局人口管理大队", region="澜沚区"),
    _guide("water", "青禾水务有限公司", "青禾水务有限公司营业厅"),
    _guide("window", "青禾区人民政府政务服务中心", "青禾区人民政府政务服务中心综合窗口"),
    _guide("medical", "青禾区医疗保障局", "青禾区医疗保障局待遇保障股"),
    _guide("health", "青禾区卫生健康委员会", "青禾区卫生健康委员会医政科"),
]}


@pytest.fixture(scope="module")
def directory() -> OfficeDirectory:
    return OfficeDirectory.from_guides(GUIDES)


@pytest.mark.parametrize(("question", "guides"), [
    ("林草局野保科电话多少", ["hunting"]),  # both shortened; the wildlife section, not the grassland one
    ("林业和草原局草原管理科在哪", ["grassland"]),  # in full
    ("林草局电话多少", ["hunting", "grassland"]),  # the bureau of both
    ("人社局的电话是多少", ["skills"]),
    ("区金融办电话", ["microloan"]),  # the name in brackets
    ("派出所在哪", ["residence"]),
    ("公积金中心在哪", ["fund"]),  # one word of the name kept, not its first character
    ("燃气公司电话多少", ["gas"]),
    ("公安局电话", ["residence", "outside"]),  # 公安分局 is a 公安局's branch; the region's own name is dropped
    ("公安分局电话", ["residence", "outside"]),
    ("医疗保障局电话", ["medical"]), ("社会保障局电话", ["skills"]),  # the longest piece wins where names share 保障
    ("医保局电话", ["medical"]), ("卫健委电话", ["health"]),  # 委 says 委员会
    ("水务公司电话", ["water"]),
])
def test_a_question_names_the_offices_of_these_guides(directory: OfficeDirectory, question: str, guides: list[str]) -> None:
    assert sorted(directory.guides_named(question)) == sorted(guides)


@pytest.mark.parametrize("question", [
    "政务中心电话多少",  # every window is in it: names no office in particular
    "政务服务中心在哪",
    "管理局电话",
    "哪个科室管这个",
    "有限公司要准备啥资料",
    "营业厅手机套餐怎么改",
    "所有材料交到哪",
    "去医院开证明",
    "教育局电话多少",  # an office no guide lists
    "家政服务有限公司电话多少", "物业服务有限公司电话",  # 务有限 begins inside 服务: no 水务有限公司
    "政务服务中心综合窗口在哪", "便民服务中心在哪",
])
def test_words_every_office_has_or_unlisted_offices_name_none(directory: OfficeDirectory, question: str) -> None:
    assert directory.guides_named(question) == [] and directory.named(question) == []


def test_the_office_named_most_fully_wins(directory: OfficeDirectory) -> None:
    assert [office.unit for office in directory.named("林草局野保科电话多少")] == ["青禾区林业和草原局野生动植物保护科"]
    named = directory.named("林草局电话")
    assert {office.unit for office in named} == {"青禾区林业和草原局野生动植物保护科", "青禾区林业和草原局草原管理科"}


def test_an_office_shared_by_guides_lists_them_all(directory: OfficeDirectory) -> None:
    window = next(office for office in directory.offices if office.unit == "青禾区政务服务中心自然资源和林草窗口")
    assert window.guide_ids == ("hunting", "grassland")


def test_without_names_leaves_what_else_the_question_says(directory: OfficeDirectory) -> None:
    assert directory.without_names("林草局野保科电话多少") == "电话多少"
    assert directory.without_names("卫生健康委员会医政科电话") == "电话"  # 委员会 read whole, not as 委
    assert directory.without_names("林草局电话，林草局地址") == "电话，地址"  # every place it is named
    assert directory.without_names("想问林草局管草原的事") == "想问管草原的事"
    assert directory.without_names("电话多少") == "电话多少"


@pytest.mark.parametrize(("question", "unknown"), [
    ("林草局救助站在哪", True),  # 林草局 is known, its 救助站 is not
    ("林草局野保科电话多少", False), ("林草局管野猪的科室电话多少", False), ("人社局哪个科室电话", False),
    ("人社局大厅在哪", False), ("人社局服务大厅在哪", False), ("人社局3号窗口", False), ("人社局几号窗口", False),
    ("人社局办公室电话", False), ("人社局在政务中心哪个窗口", False),  # places of any office
])
def test_an_office_no_guide_lists_beside_a_named_one_is_noticed(directory: OfficeDirectory, question: str,
                                                                unknown: bool) -> None:
    assert directory.names_unknown(question) is unknown


def test_a_listing_shows_the_named_offices_of_the_matters_asked_or_a_departments_first_contacts(
        directory: OfficeDirectory) -> None:
    listed = directory.listing("林草局电话", GUIDES, ["grassland", "hunting"])
    assert {(office.unit, office.guide_ids) for office in listed} == {
        ("青禾区林业和草原局野生动植物保护科", ("hunting",)), ("青禾区林业和草原局草原管理科", ("grassland",))}
    only_department = {"a": _guide("a", "青禾区住房和城乡建设局", "青禾区政务服务中心住建窗口"),
                       "b": _guide("b", "青禾区住房和城乡建设局", "青禾区政务服务中心不动产窗口")}
    listed = OfficeDirectory.from_guides(only_department).listing("住建局在哪", only_department, ["a", "b"])
    assert [(office.unit, office.guide_ids) for office in listed] == [("青禾区政务服务中心住建窗口", ("a",)),
                                                                      ("青禾区政务服务中心不动产窗口", ("b",))]
    both = {**only_department, "c": _guide("c", "青禾区住房和城乡建设局", "青禾区住房和城乡建设局物业科")}
    listed = OfficeDirectory.from_guides(both).listing("住建局在哪", both, ["c", "a"])
    assert [(office.unit, office.guide_ids) for office in listed] == [("青禾区住房和城乡建设局物业科", ("c",)),
                                                                      ("青禾区政务服务中心住建窗口", ("a",))]


def test_the_last_question_read_is_kept_for_the_same_question_only(directory: OfficeDirectory) -> None:
    assert directory.guides_named("林草局野保科电话多少") == ["hunting"]
    assert directory.guides_named("人社局的电话是多少") == ["skills"] and directory.without_names("人社局的电话是多少") == "的电话是多少"


@pytest.mark.parametrize(("question", "names"), [
    ("民政局在哪", ["民政局"]), ("教育局电话多少", ["教育局"]), ("林草局救助站在哪", ["救助站"]),
    ("林草局野保科电话多少", []), ("人社局哪个科室电话", []), ("电话多少", []),
])
def test_the_offices_no_guide_lists_are_named_by_their_kind_and_two_characters(directory: OfficeDirectory, question: str,
                                                                                names: list[str]) -> None:
    assert directory.unknown_names(question) == names


@pytest.mark.parametrize(("question", "names"), [
    ("民政局在哪", ["民政局"]), ("卫健委电话", []),  # 卫健委 is the directory's own
    ("去哪里排队", []), ("离火车站远不远", []), ("把所有材料交了", []), ("全部交齐了吗", []), ("派出所电话", []),
])
def test_only_an_authoritys_name_is_read_as_an_office_for_sure(directory: OfficeDirectory, question: str, names: list[str]) -> None:
    assert directory.unknown_names(question, AUTHORITY_KINDS) == names
