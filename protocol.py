"""What every channel says itself (examples, "unavailable", "too long"): one wording, in one place.

No imports beyond the standard library: the REST channel guard runs inside Rasa's own Python
3.10 environment (bot/rasa/rest_channel.py), the Telegram bot and the hall API in the app
environment, and all three say the same thing.

Usage::

    from protocol import unavailable_text
    unavailable_text("12345")
"""

from __future__ import annotations

# What the assistant offers as example questions (greeting, /start, the web page's chips, the
# out-of-scope reply). domain.yml's static greetings repeat them; a test keeps them in step.
EXAMPLE_QUESTIONS = ("开办企业需要什么材料？", "用水报装要多久？", "惠企政策免申即享由哪些部门牵头？")


def unavailable_text(hotline: str) -> str:
    """Rasa or the action server cannot answer right now."""
    return f"抱歉，智能助手暂时无法回答，请稍后再试。急需办事可拨打政务服务热线 {hotline}，或到政务服务中心窗口咨询。"


def too_long_text(limit: int) -> str:
    """A message over settings.message_max_chars: refused before it reaches the NLU."""
    return f"您的消息太长了（超过 {limit} 个字），请简要说明要办的事项和想了解的内容，例如“开办企业需要什么材料”。"


def empty_text() -> str:
    """A message with nothing in it once invisible characters are removed."""
    return "请问您想咨询什么事项？例如“开办企业需要什么材料”“用水报装要多久”。"
