"""Which records the admin report covers: one channel or all, and whether test traffic counts.

A conversation's channel is the prefix of its Rasa sender id (protocol.py: "kefu-" for the hall API,
its web page and kiosks; "tg-" for Telegram; anything else came through Rasa's REST channel
directly). Test traffic is a sender whose id, after the channel prefix, starts with one of
protocol.TEST_SENDER_PREFIXES ("test-…", "load-…", "unseen-…"): tests, benchmarks, probes and
developers name their senders so, and the report leaves them out unless asked.

Usage::

    from knowledge.report.filters import Filters, channel_of, is_test_sender

    channel_of("kefu-web-3f9a"), channel_of("tg-42"), channel_of("user-1")   # "kefu", "telegram", "rest"
    is_test_sender("kefu-load-kefu-1-0-2")                                     # True
    filters = Filters(channel="kefu")          # hall API only, test traffic left out
    kept = [row for row in rows if filters.keeps(row)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol import SENDER_PREFIX_KEFU, SENDER_PREFIX_TELEGRAM, TEST_SENDER_PREFIXES

ALL = "all"
KEFU, TELEGRAM, REST = "kefu", "telegram", "rest"
CHANNEL_PREFIXES = {KEFU: SENDER_PREFIX_KEFU, TELEGRAM: SENDER_PREFIX_TELEGRAM}
CHANNEL_NAMES = {KEFU: "政务服务大厅（网页、自助终端、大厅 API）", TELEGRAM: "Telegram", REST: "REST 接口（直接调用 Rasa）"}
CHANNELS = (ALL, KEFU, TELEGRAM, REST)  # the choices of index_builder.py report --channel


def channel_of(sender_id: Any) -> str:
    """"kefu", "telegram" or "rest" (no channel prefix: the REST channel was called directly)."""
    sender = str(sender_id or "")
    return next((channel for channel, prefix in CHANNEL_PREFIXES.items() if sender.startswith(prefix)), REST)


def is_test_sender(sender_id: Any) -> bool:
    """Whether the sender id marks test traffic (see protocol.TEST_SENDER_PREFIXES), on any channel."""
    sender = str(sender_id or "").lower()
    own = CHANNEL_PREFIXES.get(channel_of(sender))
    if own:
        sender = sender[len(own):]
    return sender.startswith(TEST_SENDER_PREFIXES)


@dataclass(frozen=True)
class Filters:
    channel: str = ALL
    include_test: bool = False

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"未知的渠道 {self.channel!r}：可选 {'、'.join(CHANNELS)}")

    @property
    def default(self) -> bool:
        return self.channel == ALL and not self.include_test

    def keeps(self, row: dict[str, Any]) -> bool:
        sender = row.get("sender_id")
        if not self.include_test and is_test_sender(sender):
            return False
        return self.channel == ALL or channel_of(sender) == self.channel

    def channel_name(self) -> str:
        return "全部渠道" if self.channel == ALL else CHANNEL_NAMES[self.channel]

    def describe(self) -> str:
        """What the report covers, in one Chinese sentence fragment (the page's header and the terminal)."""
        test = ("含测试流量" if self.include_test else
                "不含测试流量（发送者标识以 " + "、".join(TEST_SENDER_PREFIXES) + " 开头的对话；--include-test 计入）")
        return f"渠道：{self.channel_name()} · {test}"

    def file_suffix(self) -> str:
        """Added to the default report file name, so reports with other filters do not overwrite each other."""
        return ("" if self.channel == ALL else f"-{self.channel}") + ("-with-test" if self.include_test else "")
