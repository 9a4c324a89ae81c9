"""The hall API's request shapes: what a client may send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.channels.kefu.schemas import ChatRequest, FeedbackRequest, SessionRequest, feedback_request_model

ANSWER = "kqzvtmwrbahe"  # an answer id as the chat response gives it (protocol.ANSWER_ID_PATTERN)


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
    assert feedback(session_id="a", answer_id=ANSWER, rating="bad", comment="缺少表格下载地址").comment == "缺少表格下载地址"
    assert feedback(session_id="a", answer_id=ANSWER, rating="good").comment is None
    assert feedback.model_validate({"session_id": "a", "answer_id": ANSWER, "rating": "bad", "comment": "x" * 2000}).comment == "x" * 2000
    for bad in ({"session_id": "a", "answer_id": ANSWER, "rating": "ok"},
                {"session_id": "a", "answer_id": ANSWER, "rating": "bad", "comment": "x" * 2001},
                {"session_id": "a", "answer_id": ANSWER, "rating": "bad", "commnet": "x"}):
        with pytest.raises(ValidationError):
            feedback.model_validate(bad)


@pytest.mark.parametrize("answer_id", [None, "", "KQZVTMWRBAHE", "kqzvtmwrbah", "kqzvtmwrbahe1", 'kqzvtmwrbah"', "138123456789"])
def test_a_rating_names_a_well_formed_answer_id(answer_id: str | None) -> None:
    """A rating names the answer it rates; anything else than an id the chat gave is refused (it goes into a payload)."""
    body = {"session_id": "a", "rating": "good", **({} if answer_id is None else {"answer_id": answer_id})}
    with pytest.raises(ValidationError):
        feedback_request_model(2000).model_validate(body)


def test_the_comment_limit_is_the_one_given() -> None:
    assert feedback_request_model(10).model_validate({"session_id": "a", "answer_id": ANSWER, "rating": "bad", "comment": "x" * 10})
    with pytest.raises(ValidationError, match="at most 10 characters"):
        feedback_request_model(10).model_validate({"session_id": "a", "answer_id": ANSWER, "rating": "bad", "comment": "x" * 11})
    assert feedback_request_model(10) is feedback_request_model(10)  # one model per limit


def test_session_request_needs_a_token() -> None:
    with pytest.raises(ValidationError):
        SessionRequest(token="")
