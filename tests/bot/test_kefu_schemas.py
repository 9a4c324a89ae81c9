"""The hall API's request shapes: what a client may send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.kefu_schemas import ChatRequest, FeedbackRequest, SessionRequest


@pytest.mark.parametrize("session_id", ["a", "kiosk-3", "web_0123abcd", "A" * 64])
def test_valid_session_ids(session_id: str) -> None:
    assert ChatRequest(session_id=session_id, message="你好").session_id == session_id


@pytest.mark.parametrize("session_id", ["", "A" * 65, "a b", "../x", "会话", "a/b", "a\n"])
def test_invalid_session_ids(session_id: str) -> None:
    with pytest.raises(ValidationError):
        ChatRequest(session_id=session_id, message="你好")


@pytest.mark.parametrize("data", [{"session_id": "a", "message": 1}, {"session_id": "a"}, {"session_id": "a", "message": "x", "extra": 1}])
def test_chat_requests_are_strict(data: dict) -> None:
    with pytest.raises(ValidationError):
        ChatRequest.model_validate(data)


def test_feedback_rating_and_comment() -> None:
    assert FeedbackRequest(session_id="a", rating="bad", comment="缺少表格下载地址").comment == "缺少表格下载地址"
    assert FeedbackRequest(session_id="a", rating="good").comment is None
    for bad in ({"session_id": "a", "rating": "ok"}, {"session_id": "a", "rating": "bad", "comment": "x" * 2001}):
        with pytest.raises(ValidationError):
            FeedbackRequest.model_validate(bad)


def test_session_request_needs_a_token() -> None:
    with pytest.raises(ValidationError):
        SessionRequest(token="")
