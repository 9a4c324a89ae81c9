"""Asking for an office by name ("市监局电话多少", "消防大队在哪"): action_answer on the bundled knowledge base, driven by
trackers. The office's matters come from the guides' contacts (knowledge/retrieval/offices.py)."""

from __future__ import annotations

from typing import Any

import pytest

from actions import contact_replies
from actions.actions import ActionAnswer
from actions.services import Services
from knowledge.records.store import Records
from knowledge.retrieval.offices import Listing, OfficeDirectory
from tests.support import custom, parsed_guide, run_action, texts, tracker_for


@pytest.mark.parametrize(("question", "intent", "guide_id"), [
    ("消防大队电话多少", "ask_contact", "fire-safety-inspection"),  # one guide lists the fire brigade
    ("住建局消防审验科的电话", "ask_contact", "joint-completion-acceptance"),  # the section names the guide
    ("公积金中心在哪", "ask_location", "housing-fund-registration"),
    ("消防大队电话多少", "out_of_scope", "fire-safety-inspection"),  # an office of the knowledge base is its business
])
def test_an_office_that_handles_one_matter_answers_it(services: Services, records: Records, question: str, intent: str,
                                                      guide_id: str) -> None:
    messages, slots = run_action(ActionAnswer(services), tracker_for(question, intent))
    assert slots["guide_id"] == guide_id
    for contact in parsed_guide(guide_id).contacts:
        assert contact.phone in texts(messages)


def test_an_office_of_several_matters_lists_its_phones_and_lets_the_user_pick(services: Services, records: Records) -> None:
    messages, slots = run_action(ActionAnswer(services), tracker_for("市监局电话多少", "ask_contact"))
    text = texts(messages)
    offered = custom(messages, "clarify")
    assert offered is not None and len(offered["choices"]) >= 2 and slots["candidates"] == offered["choices"]
    for guide_id in offered["choices"]:
        guide = parsed_guide(guide_id)
        assert guide.title in text
        assert any(c.phone in text for c in guide.contacts if "市场监督管理局" in c.unit)  # each matter's own section
    assert all("市场监督管理局" in office["unit"] for office in offered["offices"])
    # a pick answers the contact of that matter
    picked = offered["choices"][1]
    messages, slots = run_action(ActionAnswer(services), tracker_for("2", "choose", slots))
    assert slots["guide_id"] == picked and slots["aspect"] == "contact"


def test_an_office_with_several_phones_is_listed_once_with_all_of_them(services: Services, records: Records) -> None:
    """A user trial: "市监局电话多少" read 登记注册科 three times, once per phone (企业开办, 个体工商户 and 简易注销 each have
    their own number at the same window)."""
    messages, _slots = run_action(ActionAnswer(services), tracker_for("市监局电话多少", "ask_contact"))
    text, offered = texts(messages), custom(messages, "clarify")
    assert offered is not None
    units = [office["unit"] for office in offered["offices"]]
    assert len(units) == len(set(units)), units
    listed = [line for line in text.splitlines() if line.startswith("· ")]
    assert len(listed) == len({line.split("　")[0] for line in listed}), listed  # each unit once in the text too
    registration = next(office for office in offered["offices"] if office["unit"] == "示例区市场监督管理局登记注册科")
    phones = {contact.phone for guide_id in offered["choices"] for contact in parsed_guide(guide_id).contacts
              if contact.unit == registration["unit"]}
    assert len(phones) > 1 and {line["phone"] for line in registration["phones"]} == phones
    assert f"· {registration['unit']}　电话 {'、'.join(line['phone'] for line in registration['phones'])}" in text


def test_a_matter_named_besides_the_office_keeps_the_retrievers_choice(services: Services, records: Records) -> None:
    """"住建局管施工许可的窗口在哪": the matter decides, not every guide of the bureau."""
    messages, slots = run_action(ActionAnswer(services), tracker_for("住建局管施工许可的窗口在哪", "ask_location"))
    assert slots["guide_id"] == "construction-permit" and custom(messages, "clarify") is None
    assert parsed_guide("construction-permit").section("办理地点").text.strip().splitlines()[0] in texts(messages)


@pytest.mark.parametrize("question", ["政务中心电话多少", "教育局电话多少"])
def test_a_question_naming_no_office_of_the_knowledge_base_is_not_answered_with_one(
        services: Services, records: Records, question: str) -> None:
    messages, _ = run_action(ActionAnswer(services), tracker_for(question, "ask_contact"))
    offered = custom(messages, "clarify")
    assert offered is None or "offices" not in offered


def test_the_conversations_matter_answers_when_the_office_handles_it(services: Services, records: Records) -> None:
    """"市监局电话多少" while talking about the food licence: that licence's office, not the bureau's whole list."""
    messages, slots = run_action(ActionAnswer(services), tracker_for("市监局电话多少", "ask_contact",
                                                                     {"guide_id": "food-business-license"}))
    assert slots["guide_id"] == "food-business-license" and custom(messages, "clarify") is None


def test_a_choice_between_matters_of_the_office_is_kept(services: Services, records: Records) -> None:
    """"公司注销找市监局哪个科，电话多少": both deregistration guides are the bureau's; which one is still the user's to say."""
    messages, _slots = run_action(ActionAnswer(services), tracker_for("公司注销找市监局哪个科，电话多少", "ask_contact"))
    offered = custom(messages, "clarify")
    assert offered is not None and "offices" not in offered
    assert {"company-deregistration", "simplified-deregistration"} <= set(offered["choices"])




# A user trial: after a question about one matter, an office with nothing to do with it was answered with that matter's
# own window ("民政局在哪" after the tax registration: 新办纳税人's 办理地点).
@pytest.mark.parametrize(("current", "question", "intent"), [
    ("new-taxpayer", "民政局在哪", "ask_location"),
    ("new-taxpayer", "医保局电话多少", "ask_contact"),
    ("water-connection", "人社局窗口在哪", "ask_location"),
])
def test_an_office_no_guide_lists_is_not_answered_with_the_conversations_matter(services: Services, records: Records,
                                                                                  current: str, question: str, intent: str) -> None:
    messages, slots = run_action(ActionAnswer(services), tracker_for(question, intent, {"guide_id": current}))
    assert custom(messages, "answer") is None and custom(messages, "not_found") is not None, texts(messages)
    assert "12345" in texts(messages) and not slots.get("candidates")


def test_an_office_of_other_matters_lists_its_own_not_the_conversations(services: Services, records: Records) -> None:
    """"市监局电话多少" after the water connection: the bureau's offices and matters, not the water company's phone."""
    messages, _slots = run_action(ActionAnswer(services), tracker_for("市监局电话多少", "ask_contact", {"guide_id": "water-connection"}))
    offered = custom(messages, "clarify")
    assert offered is not None and all("市场监督管理局" in office["unit"] for office in offered["offices"])
    assert parsed_guide("water-connection").contacts[0].phone not in texts(messages)


@pytest.mark.parametrize(("current", "question", "intent"), [
    ("invoice-application", "税务那边要带啥", "ask_materials"),  # the guide's own office
    ("water-connection", "供水公司电话多少", "ask_contact"),
])
def test_the_conversations_own_office_keeps_its_matter(services: Services, records: Records, current: str, question: str,
                                                       intent: str) -> None:
    messages, slots = run_action(ActionAnswer(services), tracker_for(question, intent, {"guide_id": current}))
    assert slots["guide_id"] == current and custom(messages, "answer") is not None


@pytest.mark.parametrize("question", ["把所有材料交到哪里", "去哪里排队取号", "坐地铁到哪一站下", "离火车站远不远", "全部材料交到哪里"])
def test_everyday_words_ending_like_an_office_keep_the_matter_at_hand(services: Services, records: Records, question: str) -> None:
    """所, 队, 站, 部 end everyday words too: only an authority's name (局, 委) is read as another office (a review found these)."""
    messages, slots = run_action(ActionAnswer(services), tracker_for(question, "ask_location", {"guide_id": "company-setup"}))
    assert custom(messages, "not_found") is None and slots["guide_id"] == "company-setup", texts(messages)


def test_every_matter_the_listing_names_can_be_picked_in_the_order_it_is_read(services: Services, records: Records) -> None:
    """A user trial: the bureau's eight units were listed with their matters, but only four matters (the retriever's first)
    were buttons, not 企业开办, and "2" picked another matter than the second one read."""
    messages, slots = run_action(ActionAnswer(services), tracker_for("市监局电话多少", "ask_contact"))
    offered = custom(messages, "clarify")
    read = list(dict.fromkeys(matter for office in offered["offices"] for matter in office["matters"]))
    titles = [parsed_guide(guide_id).title for guide_id in offered["choices"]]
    assert titles == read and len(titles) > services.settings.max_candidates
    assert "company-setup" in offered["choices"]
    messages, slots = run_action(ActionAnswer(services), tracker_for("2", "choose", slots))
    assert slots["guide_id"] == offered["choices"][1]


def test_the_cap_counts_the_units_read_not_their_phones(services: Services, records: Records, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bureau with more sections than the bundled one (four more, handling matters listed already): 登记注册科's three
    phones are one entry of the reply, not three of its MAX_OFFICES (the cap on listings showed six units where eight
    fit); the matters read stay the ones to pick."""
    extra = [Listing(f"示例区市场监督管理局第{n}科", f"0000-99000{n}", "示例区行政中心", "工作日 9:00-17:00", ("company-setup",))
             for n in range(1, 5)]
    bundled = OfficeDirectory.listing

    def more_sections(self: OfficeDirectory, *args: Any) -> list[Listing]:
        rows = bundled(self, *args)
        bureaus = next(n for n, row in enumerate(rows) if "市场监督管理局" not in row.unit)  # then windows of its matters
        return rows[:bureaus] + extra + rows[bureaus:]

    monkeypatch.setattr(OfficeDirectory, "listing", more_sections)
    messages, slots = run_action(ActionAnswer(services), tracker_for("市监局电话多少", "ask_contact"))
    text, offered = texts(messages), custom(messages, "clarify")
    assert offered is not None
    units = [office["unit"] for office in offered["offices"]]
    assert len(units) == len(set(units)) == contact_replies.MAX_OFFICES, units
    assert units[-2:] == ["示例区市场监督管理局第1科", "示例区市场监督管理局第2科"] and "第3科" not in text
    registration = next(office for office in offered["offices"] if office["unit"] == "示例区市场监督管理局登记注册科")
    assert len(registration["phones"]) == 3  # all its phones, in one entry
    assert len([line for line in text.splitlines() if line.startswith("· ")]) == contact_replies.MAX_OFFICES
    read = list(dict.fromkeys(matter for office in offered["offices"] for matter in office["matters"]))
    assert [parsed_guide(guide_id).title for guide_id in offered["choices"]] == read and slots["candidates"] == offered["choices"]


def test_the_matters_are_numbered_in_the_order_the_reply_reads_them(services: Services, records: Records,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit at two places with its phones interleaved (a@一楼, a@镇, a@一楼): the reply reads the first place's two
    matters together, and "2" must be the second matter read, not the second listing's."""
    bundled = OfficeDirectory.listing

    def interleaved(self: OfficeDirectory, *args: Any) -> list[Listing]:
        first, second, third = list(dict.fromkeys(g for row in bundled(self, *args) for g in row.guide_ids))[:3]
        unit = "示例区市场监督管理局综合窗口"
        return [Listing(unit, "0000-9900001", "示例区行政中心一楼", "工作日", (first,)),
                Listing(unit, "0000-9900002", "示例镇便民服务中心", "工作日", (second,)),
                Listing(unit, "0000-9900003", "示例区行政中心一楼", "工作日", (third,))]

    monkeypatch.setattr(OfficeDirectory, "listing", interleaved)
    messages, slots = run_action(ActionAnswer(services), tracker_for("市监局电话多少", "ask_contact"))
    text, offered = texts(messages), custom(messages, "clarify")
    assert offered is not None and len(offered["choices"]) == 3
    titles = [parsed_guide(guide_id).title for guide_id in offered["choices"]]
    listing, numbered = text.split("想了解")
    assert [listing.index(title) for title in titles] == sorted(listing.index(title) for title in titles)  # read in order
    assert numbered.splitlines()[1:] == [f"{number}. {title}" for number, title in enumerate(titles, 1)]
    assert [button["title"] for message in messages for button in message.get("buttons") or []] == numbered.splitlines()[1:]
    messages, slots = run_action(ActionAnswer(services), tracker_for("2", "choose", slots))
    assert slots["guide_id"] == offered["choices"][1] and parsed_guide(slots["guide_id"]).title == titles[1]
