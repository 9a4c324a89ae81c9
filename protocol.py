"""What the processes must agree on: button payloads and titles, slot names, custom payload keys and kinds,
handoff reasons, and the wording every channel says itself ("unavailable", "too long"). The example questions are not
here: they come from the published knowledge base (knowledge/examples.py), so they name its own guides.

The Rasa server (Python 3.10, `bot/rasa/`), the action server (`actions/`) and the channels
(`bot/channels/`, Python 3.11) all import this module, so it imports nothing beyond the standard
library. A value changed here changes on both sides of every process boundary at once; domain.yml
and data/*.yml repeat the payloads, slot names, handoff reasons (intents) and a button's title for Rasa, and
tests/test_protocol.py keeps them in step.

Usage::

    from protocol import FEEDBACK_BAD, PAYLOAD_ANSWER, rating_payload, unavailable_text
    unavailable_text("12345")
    rating_payload("bad", "kqzvtmwrbahe")   # '/feedback_bad{"answer_id": "kqzvtmwrbahe"}'
"""

from __future__ import annotations


def unavailable_text(hotline: str) -> str:
    """Rasa or the action server cannot answer right now."""
    return f"抱歉，智能助手暂时无法回答，请稍后再试。急需办事可拨打政务服务热线 {hotline}，或到政务服务中心窗口咨询。"


def too_long_text(limit: int) -> str:
    """A message over settings.message_max_chars: refused before it reaches the NLU."""
    # No item named: this process (Rasa's REST channel too) does not read the knowledge base, and a fixed
    # example could name a guide this deployment does not have.
    return f"您的消息太长了（超过 {limit} 个字），请简要说明要办的事项和想了解的内容，例如事项名称加上“要带什么材料”“多久能办好”。"


def empty_text(examples: str = "") -> str:
    """A message with nothing in it once invisible characters are removed. `examples`: the published
    example questions quoted in a row (knowledge/examples.py Examples.questions_inline), where the
    channel has them (the hall API); without, in general words (Rasa's REST channel)."""
    if examples:
        return f"请问您想咨询什么事项？请输入您的问题，例如{examples}。"
    return "请问您想咨询什么事项？请输入事项名称和想了解的内容，例如要带什么材料、多久能办好、去哪里办。"


# Button payloads: Rasa's "/intent" syntax, sent by the buttons of every channel.
FEEDBACK_GOOD = "/feedback_good"
FEEDBACK_BAD = "/feedback_bad"
REQUEST_HUMAN = "/request_human"
AFFIRM = "/affirm"  # 是 under "您问的是…吗？" (typed 是 / 对 / 嗯 reach the same intent)
DENY = "/deny"

# What those buttons say, as the action server titles them (actions/replies.py) and the staff desk reads a click on one
# in a transcript ("（点击了“转人工”）", bot/channels/kefu/page.py). The ratings' buttons put an emoji before theirs
# ("👍 好评"): the word is what they say.
TITLE_REQUEST_HUMAN = "转人工"
TITLE_FEEDBACK_GOOD = "好评"
TITLE_FEEDBACK_BAD = "差评"
TITLE_AFFIRM = "是"
TITLE_DENY = "不是"
BUTTON_TITLES = {REQUEST_HUMAN: TITLE_REQUEST_HUMAN, FEEDBACK_GOOD: TITLE_FEEDBACK_GOOD, FEEDBACK_BAD: TITLE_FEEDBACK_BAD,
                 AFFIRM: TITLE_AFFIRM, DENY: TITLE_DENY}

# The intents the buttons send; a typed "/x" with any other intent is no button (`typed_command`).
BUTTON_INTENTS = frozenset({FEEDBACK_GOOD[1:], FEEDBACK_BAD[1:], REQUEST_HUMAN[1:], AFFIRM[1:], DENY[1:], "choose"})
GREET = "/greet"  # the welcome: what a typed /start or /help asks for
RESTART = "/restart"  # Rasa's own: the conversation starts afresh (its slots and context forgotten)


def is_button_payload(text: str) -> bool:
    """Whether the message is exactly what one of the buttons sends ("/affirm", '/choose{"pick": …}')."""
    return text.startswith("/") and text[1:].split("{", 1)[0] in BUTTON_INTENTS


def typed_command(text: str) -> str:
    """What a message typed as a command means to the assistant: a button's payload stays one; "/start" and "/help",
    which Telegram users type out of habit, ask for the welcome; "/restart" and "/reset" start the conversation afresh;
    any other "/word" ("/session_start", "/out_of_scope", "/abc") is words, read without its slash, never an intent
    nobody offered the user."""
    if not text.startswith("/"):
        return text
    if is_button_payload(text):
        return text
    words = text.lstrip("/ \t")
    while words.startswith("/"):  # "/ /session_start": no slash may be left in front
        words = words.lstrip("/ \t")
    name = words.split("{", 1)[0].strip().lower()
    if name in ("start", "help"):
        return GREET
    if name in ("restart", "reset"):
        return RESTART
    return words


def restarted_text() -> str:
    """After "/restart": nothing of the conversation is remembered any more."""
    return "好的，已重新开始对话，之前说的事项不再沿用。请问您想咨询什么事项？"


# A typed pick of an offered option by its position ("2", "第二个", "选3吧", "最后一个"), as the action server
# picks with it (actions/dialogue.py resolve_pick) and the admin report counts it as a pick (knowledge/report/followups.py,
# which must not import the action server). For re.match; group 1 of PICK_NUMBER_PATTERN is the number (digits, full-width
# digits, or 一 to 九).
PICK_NUMBER_PATTERN = (r"^\s*(?:选|选择|就|要|是)?\s*(?:第\s*)?([0-9０-９]{1,2}|[一二两三四五六七八九])"
                       r"\s*(?:个|项|种|条|号|吧|那个)?\s*(?:吧|吗|呀|啊)?\s*[。.!！?？]*\s*$")
PICK_LAST_PATTERN = r"^(?:选|就|要)?\s*(?:最后|最末)(?:一个|一项|那个)"

# The comment of the 差评 that a "不是" right after an answer records (actions/feedback.py): the admin report
# counts the 差评 but shows only what citizens wrote as examples of what was missing (knowledge/report/stats.py).
DECLINED_ANSWER_COMMENT = "（回答后回复“不是”）"


# Every answer has an id (ANSWER_ID_PATTERN, made by the action server), in its custom payload
# (PAYLOAD_ANSWER -> "id") and in its rating buttons, so a rating names the answer it rates, however
# old the button. The entities of a rating payload (declared in domain.yml):
ENTITY_ANSWER_ID = "answer_id"
ENTITY_COMMENT = "comment"  # what was missing, sent with a 差评 in one message (the hall API)
# Letters only: the REST channel masks what looks like a phone or ID number in every message, a
# button's payload included, and an id of hex digits could hold one.
ANSWER_ID_PATTERN = r"[a-z]{12}"  # whole string (re.fullmatch)


def rating_payload(rating: str, answer_id: str | None, comment: str | None = None) -> str:
    """The payload of a 好评 ("good") or 差评 ("bad") for one answer, in Rasa's entity syntax:
    ``/feedback_good{"answer_id": "kqzvtmwrbahe"}``; a 差评 may carry its comment too. Without an id
    (a client that has none) it rates the conversation's latest answer."""
    import json  # local: this module's top level stays free of anything but definitions

    intent = FEEDBACK_GOOD if rating == "good" else FEEDBACK_BAD
    entities = {ENTITY_ANSWER_ID: answer_id} if answer_id else {}
    if comment and rating != "good":
        entities[ENTITY_COMMENT] = comment
    # One line whatever the comment holds (Rasa reads the entities up to the end of the line).
    return intent + (json.dumps(entities, ensure_ascii=False) if entities else "")


# Slots (declared in domain.yml) that the actions read and write.
SLOT_GUIDE = "guide_id"  # the guide the conversation is about (follow-ups answer it)
SLOT_ASPECT = "aspect"  # the aspect last answered (a bare "X呢？" asks it again)
SLOT_CANDIDATES = "candidates"  # guides offered in a clarifying question, until one is picked
SLOT_PENDING_ASPECT = "pending_aspect"  # what the user asked, while the assistant asks back
SLOT_PENDING_QUESTION = "pending_question"
SLOT_OFFERED = "offered"  # what the last reply offered: OFFERED_CONFIRM, OFFERED_HANDOFF or OFFERED_ITEM
SLOT_LAST_ANSWER = "last_answer"  # {id, question, guide_id, section, index_version} of the latest answer
SLOT_ANSWERS = "answers"  # the conversation's recent answers, like last_answer: what a rating's answer id names
SLOT_FEEDBACK_COMMENT = "feedback_comment"  # what was missing, after a 差评
SLOT_FEEDBACK_ANSWER = "feedback_answer"  # the id of the answer whose 差评 awaits its comment
OFFERED_CONFIRM = "confirm"  # the last reply asked "您问的是【X】…吗？"
OFFERED_HANDOFF = "handoff"  # the last reply offered 转人工 (a 是的 accepts it)
OFFERED_ITEM = "item"  # the last reply asked which item ("您想了解哪个事项的办理时限？")

# The custom payload of a reply: one key saying what kind of reply it is, read by the channels.
PAYLOAD_ANSWER = "answer"
PAYLOAD_CONFIRM = "confirm"
PAYLOAD_CLARIFY = "clarify"
PAYLOAD_NOT_FOUND = "not_found"
PAYLOAD_ASK_ITEM = "ask_item"
PAYLOAD_HANDOFF = "handoff"
PAYLOAD_FEEDBACK = "feedback"  # domain.yml's rating replies: {"feedback": FEEDBACK_THANKS | …}
PAYLOAD_KINDS = (PAYLOAD_HANDOFF, PAYLOAD_ANSWER, PAYLOAD_CONFIRM, PAYLOAD_CLARIFY, PAYLOAD_NOT_FOUND, PAYLOAD_ASK_ITEM)
FEEDBACK_THANKS = "thanks"  # after 好评
FEEDBACK_ASK_COMMENT = "ask_comment"  # after 差评: "请告诉我缺了什么"
FEEDBACK_COMMENT_SAVED = "comment_saved"  # the comment was stored
FEEDBACK_UNKNOWN_ANSWER = "unknown_answer"  # the rated answer is not (or no longer) known: nothing was stored

# Why a conversation went to people: the "reason" of a handoff payload (PAYLOAD_HANDOFF) and of its record (the
# handoffs table), written by the action server (actions/handoff.py) and read by the staff desk, the Telegram staff
# notice and the admin report, each in its own words. Named after the intents that ask for them.
REASON_REQUEST_HUMAN = "request_human"  # 转人工: the user asked for a person
REASON_COMPLAIN = "complain"  # a complaint, or difficulty getting something done
HANDOFF_REASONS = (REASON_REQUEST_HUMAN, REASON_COMPLAIN)

# Sender ids: each channel's conversations start with its own prefix.
SENDER_PREFIX_KEFU = "kefu-"
SENDER_PREFIX_TELEGRAM = "tg-"

# Test traffic: a sender id that, after its channel prefix (kefu-, tg-; none on the REST channel),
# starts with one of these (case-insensitive) comes from a test, a benchmark, a probe or a developer
# trying things, never from a citizen. The admin report leaves it out unless asked
# (index_builder.py report --include-test). Whoever sends automated or trial traffic names its
# senders so: "test-…" (tests; the hall API's session "test-…" is "kefu-test-…"), "dev-…" (a
# developer by hand), "sec-…" (security probes), "probe-…", and the benchmarks' own prefixes.
TEST_SENDER_PREFIXES = ("test-", "api-test-", "dev-", "sec-", "probe-", "load-", "bench-", "unseen-", "switch-",
                        "zero-downtime-", "tracker-test")

# A Rasa sender id: a channel prefix and the channel's own id ("kefu-3f9a…", "tg-42", "tg--1001-2").
# Validated on the REST channel, so no log line can be forged through it (no newlines, no spaces).
SENDER_PATTERN = r"[A-Za-z0-9_.:-]{1,128}"  # whole string (re.fullmatch)

# Credentials between the processes: each from its environment variable, else generated once into
# var/secrets/<file> (mode 600) by the launcher, which hands them on in the environment (never argv).
REST_TOKEN_ENV = "GOVQA_REST_TOKEN"  # channels -> Rasa's REST channel: "Authorization: Bearer <token>"
REST_TOKEN_FILE = "rest_token"
ACTION_TOKEN_ENV = "GOVQA_ACTION_TOKEN"  # Rasa -> action server (endpoints.yml headers)
ACTION_TOKEN_FILE = "action_token"
STAFF_TOKEN_ENV = "KEFU_STAFF_TOKEN"  # clerks -> the hall API's staff desk (/desk); never a citizen's credential
STAFF_TOKEN_FILE = "kefu_staff_token"

# Set by the launcher on a Rasa server or action server behind HAProxy: on SIGTERM it first fails its health
# check for this many seconds (HAProxy takes it out), still serving, then stops (bot/rasa/instance.py, actions/server.py).
DRAIN_ENV = "BALANCER_DRAIN_SECONDS"


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token` ("Bearer <token>"), in constant time.
    An empty configured token matches nothing: a server without its secret is closed, not open."""
    import hmac  # local: this module's top level stays free of anything but definitions

    scheme, _, given = (header or "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
