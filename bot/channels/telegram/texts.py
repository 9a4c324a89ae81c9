"""What the Telegram bot says itself, in Chinese: the command menu, /start, /help, /reset, the
hints for stickers and unknown commands, the error apology and the answers to stale buttons.

What every channel says alike ("unavailable", "too long") is in protocol.py; what Rasa's actions say
is in actions/replies.py. The example questions and item names are the published knowledge base's
(knowledge/examples.py, passed in), so they name guides it has. Plain text: `to_html` escapes it when sent.
"""

from __future__ import annotations

from knowledge.examples import Examples

# The bot's menu (setMyCommands), in the order Telegram shows it; handlers.register wires the same four.
COMMANDS = (("start", "开始使用"), ("help", "使用说明"), ("reset", "重新开始对话"), ("human", "转人工服务"))

# Answers to a tapped callback query (shown as a toast or alert), not chat messages.
BUTTON_EXPIRED = "这个按钮已过期，请直接输入您的问题。"
BUTTON_USED = "这个按钮已经用过了。"


def welcome_text(hotline: str, examples: Examples) -> str:
    """/start: what the assistant can do, with the example questions (also offered as buttons)."""
    ask = (f"直接输入您的问题就行，例如：{examples.questions_text()}\n\n也可以点下面的例子试一试。" if examples.questions
           else "直接输入您要办的事项和想了解的内容就行。")
    return ("您好！我是政务服务智能问答助手，可以解答办事指南和惠企政策方面的问题：要带什么材料、多久办好、"
            f"去哪里办、收不收费、找谁咨询。\n\n{ask}需要人工服务请发 /human，或拨打政务服务热线 {hotline}。")


def help_text(hotline: str, examples: Examples) -> str:
    """/help: how to ask, the buttons and the commands."""
    named = examples.questions_inline(1)
    return ("使用说明：\n"
            f"· 直接用文字提问，说清要办的事项和想了解的内容{'，例如' + named if named else ''}；接着可以追问“那要多久？”“在哪里办？”。\n"
            "· 回答下方的按钮可以选择事项、评价回答（👍 好评 / 👎 差评）。\n\n"
            "命令：\n/start 开始使用\n/help 使用说明\n/reset 重新开始对话（之前的内容不再作为上下文）\n/human 转人工服务\n\n"
            f"急需办事可拨打政务服务热线 {hotline}。")


def reset_text() -> str:
    """/reset: a new Rasa conversation has begun."""
    return "好的，已开始新的对话，之前的内容不再作为上下文。请问您想了解哪个事项？"


def non_text_hint(examples: Examples) -> str:
    """A sticker, photo, voice message or file: only text reaches the assistant."""
    named = examples.questions_inline(1)
    return ("抱歉，我只能看懂文字消息，暂时无法识别图片、语音、贴纸或文件。请用文字描述您要办理的事项"
            + (f"，例如{named}。" if named else "和想了解的内容。"))


def unknown_command_text() -> str:
    """A /command the bot does not have."""
    return "抱歉，没有这个命令。可用的命令：/start 开始使用，/help 使用说明，/reset 重新开始对话，/human 转人工服务。"


def error_text(hotline: str) -> str:
    """An unexpected error while handling the user's update: the bot goes on, the user is told."""
    return f"抱歉，处理您的消息时出了点问题，请稍后再试。急需办事可拨打政务服务热线 {hotline}。"
