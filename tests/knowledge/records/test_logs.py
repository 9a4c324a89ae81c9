"""Log lines keep no personal numbers and cannot be forged with a newline (knowledge/records/logs.py)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from knowledge.records.logs import Public, install_private_logging, private_text

pytestmark = pytest.mark.unit


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    previous = logging.getLogRecordFactory()
    install_private_logging()
    stream = io.StringIO()
    logger = logging.getLogger("test.private")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(previous)


def test_numbers_in_urls_are_masked_even_percent_encoded(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/api/v1/guides?q=%E6%89%8B%E6%9C%BA13812345678", "1.1", 200)
    logger.info("查询 /api/v1/guides?q=13812345678")
    text = stream.getvalue()
    assert "13812345678" not in text and text.count("138****5678") == 2 and " 200" in text


def test_an_index_version_is_logged_whole_but_a_typed_one_is_masked(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info("已切换到新发布的索引 %s", Public("20261205-074728-9c80ed"))
    logger.info("用户说 %s", "20261205-074728-9c80ed")  # the same digits typed by a user: could be a number
    logger.info("索引 %s", Public("v1\n伪造的一行"))
    first, second, third = stream.getvalue().splitlines()
    assert first.endswith("20261205-074728-9c80ed")
    assert "20261205-074728" not in second
    assert third.endswith("v1\\n伪造的一行")  # still escaped: a version read from a file cannot forge a line


def test_a_newline_cannot_forge_a_line(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.error("对话 %s 的消息处理失败", "x\nERROR 伪造的一行")
    assert stream.getvalue().count("\n") == 1 and "x\\nERROR" in stream.getvalue()


def test_a_trace_is_masked(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    try:
        raise ValueError("身份证430102199001011234")
    except ValueError:
        logger.exception("失败")
    assert "430102199001011234" not in stream.getvalue() and "Traceback" in stream.getvalue()


@pytest.mark.parametrize(("raw", "kept"), [("a\rb\x1bc", "a\\rb\\x1bc"), ("手机138-1234-5678", "手机138****5678"), ("正常", "正常")])
def test_private_text(raw: str, kept: str) -> None:
    assert private_text(raw) == kept
