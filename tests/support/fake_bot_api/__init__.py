"""A local fake of Telegram's Bot API server, for running the real python-telegram-bot client.

Telegram's servers cannot be reached from here, and PTB can point at any Bot API server
(``ApplicationBuilder().base_url(...)``, as a self-hosted ``telegram-bot-api`` server is used).
This server speaks the Bot API's HTTP interface: ``POST /bot<token>/<method>`` with form, JSON or
query parameters, answers ``{"ok": true, "result": …}`` with Message/User/Chat objects, and errors
as ``{"ok": false, "error_code": 400, "description": "Bad Request: …"}`` as Telegram words them.
It is strict where a real server is: callback_data 1-64 bytes, text 1-4096 characters after entity
parsing, well-formed HTML with only Telegram's tags, messages only to chats it knows, a callback
query answered once, "message is not modified" for an edit that changes nothing, getUpdates
refused while a webhook is set (a long poll waiting when it is set ends with 409 Conflict).

Implemented: getMe, getUpdates (long polling with timeout and offset), sendMessage, sendChatAction,
answerCallbackQuery, editMessageReplyMarkup, setMyCommands, getMyCommands, deleteMyCommands,
setWebhook (updates are then POSTed to the webhook with X-Telegram-Bot-Api-Secret-Token),
deleteWebhook, getWebhookInfo, logOut, close.

Usage::

    with FakeBotApi() as api:                        # listens on 127.0.0.1:<free port>
        env = {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url}
        ...start the bot...
        mark = api.mark(42)
        api.user_says(42, "开办企业需要什么材料")
        # The Message objects the bot sent to chat 42 since the mark, once one carries a keyboard:
        replies = api.wait_messages(42, since=mark, until=lambda messages: "reply_markup" in messages[-1])
        api.click(42, replies[-1], "好评")          # a callback_query update for that button: [its id]

Waiting is for a definite end (a number of messages, a message with a keyboard), never for a
quiet period: on a loaded machine the messages of one reply can be seconds apart.

The package: server.py (FakeBotApi: the HTTP side), methods.py (the Bot API methods), user_side.py
(playing the user, reading what the bot did), state.py (what the server holds), html.py (text and
HTML parse mode), keyboards.py (inline keyboards), errors.py (refusals as Telegram words them).
"""

from tests.support.fake_bot_api.errors import NOT_MODIFIED, QUERY_TOO_OLD, ApiError, bad_request
from tests.support.fake_bot_api.html import ENTITY_TYPES, MESSAGE_LIMIT, parse_html, utf16_len
from tests.support.fake_bot_api.keyboards import check_keyboard
from tests.support.fake_bot_api.methods import CHAT_ACTIONS
from tests.support.fake_bot_api.server import JSON_PARAMETERS, FakeBotApi

__all__ = ["CHAT_ACTIONS", "ENTITY_TYPES", "JSON_PARAMETERS", "MESSAGE_LIMIT", "NOT_MODIFIED", "QUERY_TOO_OLD", "ApiError",
           "FakeBotApi", "bad_request", "check_keyboard", "parse_html", "utf16_len"]
