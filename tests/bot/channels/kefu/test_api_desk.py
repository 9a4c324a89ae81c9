"""The staff desk's API (bot/channels/kefu/routes/desk.py) on the hall app: its own staff token (the
citizens' token and cookie never open it, the staff token is no citizen credential), the queue,
take / reply / close with the clerk's name, a held conversation whose messages reach the clerk and
not the assistant, the citizen's side (GET /api/v1/chat/staff), the record of every staff action,
the guide card and the session history. Rasa is the fake REST channel of tests/support/kefu.py;
handoffs are written with the records store as the action server writes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.channels.kefu.api import create_app
from knowledge.records.desk import DeskRecords
from knowledge.records.store import ANSWERED
from knowledge.settings import load_settings
from tests.support.kefu import AUTH, TOKEN, bundled_guides, fake_rasa, publish_guides

STAFF_TOKEN = "test-staff-token"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
MOBILE = "13812345678"
ANSWER = [{"text": "【企业开办（公司设立登记）】申请材料：…"}]


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    publish_guides(tmp_path / "index", bundled_guides())
    return load_settings(index_dir=tmp_path / "index", records_db=tmp_path / "records.sqlite3", rasa_retries=0,
                         rasa_timeout_seconds=5)


@pytest.fixture
def rasa() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with fake_rasa([ANSWER]) as running:
        yield running


@pytest.fixture
def client(settings: Any, rasa: tuple[str, list[dict[str, Any]]]) -> TestClient:
    return TestClient(create_app(settings, rasa_url=rasa[0], token=TOKEN, staff_token=STAFF_TOKEN))


def handoff(settings: Any, sender: str = "kefu-s1", question: str = "营业执照丢了怎么补办") -> int:
    return DeskRecords(settings.records_db).add_handoff(
        sender, reason="request_human", guide_id="license-reissue", question=question,
        transcript=[{"from": "user", "text": f"{question}，电话 {MOBILE}"}, {"from": "bot", "text": "已为您转接人工服务"}])


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the many requests that are refused before any route runs."""
    folder = tmp_path_factory.mktemp("desk-auth")
    publish_guides(folder / "index", bundled_guides())
    settings = load_settings(index_dir=folder / "index", records_db=folder / "records.sqlite3", rasa_retries=0)
    with fake_rasa([ANSWER]) as (url, _received):
        yield TestClient(create_app(settings, rasa_url=url, token=TOKEN, staff_token=STAFF_TOKEN))


DESK_ROUTES = [("GET", "/desk/api/queue", None), ("GET", "/desk/api/handoffs/1", None), ("POST", "/desk/api/handoffs/1/take", {}),
               ("POST", "/desk/api/handoffs/1/reply", {"text": "你好"}), ("POST", "/desk/api/handoffs/1/close", {"outcome": "other"}),
               ("GET", "/desk/api/search?q=注销", None), ("GET", "/desk/api/guides/company-setup", None),
               ("GET", "/desk/api/history?sender_id=kefu-s1", None), ("GET", "/desk/api/session", None)]


@pytest.mark.parametrize(("method", "path", "body"), DESK_ROUTES)
@pytest.mark.parametrize("headers", [{}, AUTH, {"Authorization": f"Bearer {STAFF_TOKEN}x"}, {"Cookie": "kefu_desk=1.abc.forged"}])
def test_every_desk_route_needs_the_staff_token_not_the_citizens(shared_client: TestClient, method: str, path: str, body: Any,
                                                                  headers: dict[str, str]) -> None:
    response = shared_client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401, response.text
    assert "工作人员令牌" in response.json()["error"]["message"]


def test_a_citizens_cookie_does_not_open_the_desk_nor_the_staff_token_the_chat(client: TestClient, settings: Any) -> None:
    assert client.post("/api/v1/session", json={"token": TOKEN}).status_code == 200  # the kiosk's cookie
    assert client.get("/api/v1/session").status_code == 200
    assert client.get("/desk/api/queue").status_code == 401
    assert client.post("/desk/api/session", json={"token": TOKEN, "clerk": "王芳"}).status_code == 401
    for path in ("/api/v1/guides", "/api/v1/chat/staff?session_id=s1"):
        assert client.get(path, headers=STAFF).status_code == 401, path
    assert client.post("/api/v1/session", json={"token": STAFF_TOKEN}).status_code == 401
    assert client.get("/desk/api/queue", headers=STAFF).status_code == 200


def test_without_a_staff_token_or_with_the_citizens_the_desk_is_closed(settings: Any, rasa: tuple[str, Any]) -> None:
    for staff_token in (None, TOKEN):
        app = TestClient(create_app(settings, rasa_url=rasa[0], token=TOKEN, staff_token=staff_token))
        for headers in ({}, AUTH, STAFF):
            response = app.get("/desk/api/queue", headers=headers)
            assert response.status_code == 503 and "KEFU_STAFF_TOKEN" in response.json()["error"]["message"]
        assert app.get("/desk").status_code == 200  # the page itself says so after its first call


def test_the_desk_page_is_served_with_a_strict_csp(client: TestClient) -> None:
    page = client.get("/desk")
    assert page.status_code == 200 and "人工坐席" in page.text and "/assets/desk.js" in page.text
    assert "data-buttons=" in page.text and "{{" not in page.text  # the button payloads filled in (page.py render_desk)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/assets/desk.js").status_code == 200


def test_queue_take_reply_close_reach_the_citizen_and_are_recorded(client: TestClient, settings: Any,
                                                                   rasa: tuple[str, list[dict[str, Any]]]) -> None:
    number = handoff(settings)
    handoff(settings, "tg-42", "转人工")
    queue = client.get("/desk/api/queue", headers=STAFF).json()
    assert [(h["id"], h["status"], h["sender_id"]) for h in queue["handoffs"]][:1] == [(number, "waiting", "kefu-s1")]
    assert queue["handoffs"][0]["guide"]["title"] and "staff_hours" in queue and "on_duty" in queue
    detail = client.get(f"/desk/api/handoffs/{number}", headers=STAFF).json()
    assert MOBILE not in str(detail["transcript"]) and detail["question"] == "营业执照丢了怎么补办"
    assert detail["guide"]["contacts"]

    # the citizen's side before anyone took it: waiting, the assistant still answers
    assert client.get("/api/v1/chat/staff?session_id=s1", headers=AUTH).json() == {
        "status": "waiting", "handoff_id": number, "clerk": None, "messages": []}
    assert client.post("/api/v1/chat", json={"session_id": "s1", "message": "还在吗"}, headers=AUTH).json()["kind"] == "message"
    sent_to_rasa = len(rasa[1])

    no_name = client.post(f"/desk/api/handoffs/{number}/take", json={}, headers=STAFF)
    assert no_name.status_code == 422 and "姓名" in no_name.json()["error"]["message"]
    taken = client.post(f"/desk/api/handoffs/{number}/take", json={"clerk": "王芳"}, headers=STAFF).json()
    assert (taken["status"], taken["clerk"]) == ("taken", "王芳")
    other = client.post(f"/desk/api/handoffs/{number}/take", json={"clerk": "李强"}, headers=STAFF)
    assert other.status_code == 409 and "王芳" in other.json()["error"]["message"]

    # held: what the citizen types goes to the clerk, masked, never to the assistant
    held = client.post("/api/v1/chat", json={"session_id": "s1", "message": f"我的电话是 {MOBILE}"}, headers=AUTH).json()
    assert held["kind"] == "staff" and "工作人员" in held["messages"][0]["text"]
    assert len(rasa[1]) == sent_to_rasa
    lines = client.get(f"/desk/api/handoffs/{number}", headers=STAFF).json()["messages"]
    assert lines[-1]["author"] == "citizen" and MOBILE not in lines[-1]["text"] and "138****5678" in lines[-1]["text"]

    reply = client.post(f"/desk/api/handoffs/{number}/reply", json={"clerk": "王芳", "text": "您好，补办需要带身份证原件。"}, headers=STAFF)
    assert reply.status_code == 200
    seen = client.get("/api/v1/chat/staff?session_id=s1", headers=AUTH).json()
    assert seen["status"] == "taken" and seen["clerk"] == "王芳"
    assert [m["author"] for m in seen["messages"]] == ["desk", "clerk"]
    assert "工作人员已接入" in seen["messages"][0]["text"] and seen["messages"][1]["text"] == "您好，补办需要带身份证原件。"
    after = seen["messages"][-1]["id"]
    assert client.get(f"/api/v1/chat/staff?session_id=s1&after={after}", headers=AUTH).json()["messages"] == []

    bad = client.post(f"/desk/api/handoffs/{number}/close", json={"clerk": "王芳", "outcome": "done"}, headers=STAFF)
    assert bad.status_code == 422 and "已解答" in bad.json()["error"]["message"]
    closed = client.post(f"/desk/api/handoffs/{number}/close", json={"clerk": "王芳", "outcome": "answered", "note": "已告知材料"},
                         headers=STAFF).json()
    assert (closed["status"], closed["outcome_label"], closed["outcome_note"]) == ("closed", "已解答", "已告知材料")
    [ended] = client.get(f"/api/v1/chat/staff?session_id=s1&after={after}", headers=AUTH).json()["messages"]
    assert "已结束本次人工服务" in ended["text"]
    # closed: the assistant answers again
    assert client.post("/api/v1/chat", json={"session_id": "s1", "message": "开公司要什么材料"}, headers=AUTH).json()["kind"] != "staff"
    assert len(rasa[1]) == sent_to_rasa + 1

    actions = DeskRecords(settings.records_db).actions(number)
    assert [(a["action"], a["clerk"], a["handoff_id"]) for a in actions] == [
        ("take", "王芳", number), ("reply", "王芳", number), ("close", "王芳", number)]
    assert all(a["time"] for a in actions)


def test_the_desk_login_names_the_clerk_for_every_action(client: TestClient, settings: Any) -> None:
    number = handoff(settings)
    wrong = client.post("/desk/api/session", json={"token": "wrong", "clerk": "王芳"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    login = client.post("/desk/api/session", json={"token": STAFF_TOKEN, "clerk": "  王芳 "})
    cookie = login.headers["set-cookie"].lower()
    assert login.json() == {"authenticated": True, "clerk": "王芳"}
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/desk" in cookie
    assert client.get("/desk/api/session").json()["clerk"] == "王芳"
    assert client.get("/api/v1/guides").status_code == 401  # the desk cookie is no citizen credential
    assert client.post(f"/desk/api/handoffs/{number}/take").json()["clerk"] == "王芳"
    client.post(f"/desk/api/handoffs/{number}/reply", json={"text": "您好"})
    assert [a["clerk"] for a in DeskRecords(settings.records_db).actions(number)] == ["王芳", "王芳"]
    assert client.delete("/desk/api/session").status_code == 200
    assert client.get("/desk/api/queue").status_code == 401


def test_bad_input_gets_a_clear_chinese_error(client: TestClient, settings: Any) -> None:
    handoff(settings)
    assert "没有编号为 999" in client.get("/desk/api/handoffs/999", headers=STAFF).json()["error"]["message"]
    assert client.get("/desk/api/handoffs/abc", headers=STAFF).status_code == 422
    assert client.get("/desk/api/handoffs/99999999999999999999999", headers=STAFF).status_code == 422
    assert client.get("/api/v1/chat/staff?session_id=s1&after=99999999999999999999999", headers=AUTH).status_code == 422
    assert client.post("/desk/api/handoffs/1/reply", json={"clerk": "王芳", "text": "你好"}, headers=STAFF).status_code == 409
    assert client.post("/desk/api/handoffs/1/reply", json={"clerk": "王芳", "text": "x" * 2001}, headers=STAFF).status_code == 422
    assert client.get("/desk/api/history?sender_id=a%20b", headers=STAFF).status_code == 422
    assert client.post("/desk/api/handoffs/1/take", content=b"{", headers={**STAFF, "Content-Type": "application/json"}).status_code == 400
    assert client.get("/desk/api/guides/nope", headers=STAFF).status_code == 404


def test_the_console_guide_card_and_the_session_history(client: TestClient, settings: Any) -> None:
    card = client.get("/desk/api/guides/company-setup", headers=STAFF).json()
    assert card["title"] == "企业开办（公司设立登记）" and "申请材料" in card["sections"] and card["contacts"]
    store = DeskRecords(settings.records_db)
    store.add_question("kefu-s1", f"开公司 {MOBILE}", outcome=ANSWERED, guide_id="company-setup")
    handoff(settings)
    history = client.get("/desk/api/history?sender_id=kefu-s1", headers=STAFF).json()
    assert [q["guide_id"] for q in history["questions"]] == ["company-setup"] and MOBILE not in history["questions"][0]["question"]
    assert history["questions"][0]["guide_title"] == "企业开办（公司设立登记）"  # what staff read, not the file id
    assert len(history["handoffs"]) == 1


def test_button_payloads_still_reach_the_assistant_while_held(client: TestClient, settings: Any, rasa: tuple[str, list[dict[str, Any]]]) -> None:
    """A button's payload (a rating of an earlier answer) still goes to the assistant while a clerk holds the conversation."""
    number = handoff(settings)
    DeskRecords(settings.records_db).take(number, "王芳")
    before = len(rasa[1])
    client.post("/api/v1/chat", json={"session_id": "s1", "message": '/feedback_good{"answer_id": "abcdefghijkl"}'}, headers=AUTH)
    assert len(rasa[1]) == before + 1
    again = client.post("/api/v1/chat", json={"session_id": "s1", "message": "/request_human"}, headers=AUTH).json()
    assert again["kind"] == "staff" and len(rasa[1]) == before + 1


def test_a_typed_command_goes_to_the_clerk_while_held(client: TestClient, settings: Any, rasa: tuple[str, list[dict[str, Any]]]) -> None:
    """"/restart" while a clerk holds the conversation used to restart the assistant, the clerk still talking to the session."""
    number = handoff(settings)
    DeskRecords(settings.records_db).take(number, "王芳")
    before = len(rasa[1])
    held = client.post("/api/v1/chat", json={"session_id": "s1", "message": "/restart"}, headers=AUTH).json()
    assert held["kind"] == "staff" and len(rasa[1]) == before
    detail = client.get(f"/desk/api/handoffs/{number}", headers=STAFF).json()
    assert "/restart" in str(detail)
