"""The hall API's request shapes: what a client may send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.channels.kefu.schemas import ChatRequest, FeedbackRequest, SessionRequest, feedback_request_model


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
    feedback = feedback_request_model(2000)
    assert issubclass(feedback, FeedbackRequest) and feedback.__name__ == "FeedbackRequest"
    assert feedback(session_id="a", rating="bad", comment="缺少表格下载地址").comment == "缺少表格下载地址"
    assert feedback(session_id="a", rating="good").comment is None
    assert feedback.model_validate({"session_id": "a", "rating": "bad", "comment": "x" * 2000}).comment == "x" * 2000
    for bad in ({"session_id": "a", "rating": "ok"}, {"session_id": "a", "rating": "bad", "comment": "x" * 2001},
                {"session_id": "a", "rating": "bad", "commnet": "x"}):
        with pytest.raises(ValidationError):
            feedback.model_validate(bad)


def test_the_comment_limit_is_the_one_given() -> None:
    assert feedback_request_model(10).model_validate({"session_id": "a", "rating": "bad", "comment": "x" * 10})
    with pytest.raises(ValidationError, match="at most 10 characters"):
        feedback_request_model(10).model_validate({"session_id": "a", "rating": "bad", "comment": "x" * 11})
    assert feedback_request_model(10) is feedback_request_model(10)  # one model per limit


def test_session_request_needs_a_token() -> None:
    with pytest.raises(ValidationError):
        SessionRequest(token="")
