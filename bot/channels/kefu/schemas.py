"""The hall API's request and response shapes (pydantic), which also make its OpenAPI document.

Usage::

    request = ChatRequest(session_id="kiosk-3-a1b2", message="开办企业需要什么材料")
    Feedback = feedback_request_model(settings.message_max_chars)   # comment limited like a chat message
    Feedback(session_id="kiosk-3-a1b2", answer_id="kqzvtmwrbahe", rating="bad", comment="没说表具费用谁出")
    response = ChatResponse(kind="answer", messages=[Message(text="【企业开办】…")], handoff=False)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from protocol import ANSWER_ID_PATTERN

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

ReplyKind = Literal["answer", "confirm", "clarify", "not_found", "ask_item", "handoff", "message", "empty", "too_long", "unavailable",
                    "staff"]


class _Strict(BaseModel):
    # Unknown fields are refused, so a misspelt "mesage" is a clear 422 instead of an empty question.
    model_config = ConfigDict(extra="forbid", strict=True)


class ChatRequest(_Strict):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="会话标识：1-64 位字母、数字、下划线或短横线；同一会话的追问沿用上文事项",
                            examples=["kiosk-3-a1b2c3"])
    message: str = Field(description="用户的问题，或按钮的 payload（如 /choose{\"pick\": \"company-setup\"}）", examples=["开办企业需要什么材料"])


class Message(BaseModel):
    text: str = Field(description="给用户看的一段回复")


class GuideRef(BaseModel):
    id: str
    title: str
    department: str
    updated: str = Field(description="指南更新日期 YYYY-MM-DD")
    source: str = Field("", description="来源文件")
    notice_url: str = Field(description="可打印的一次性告知单地址")


class Contact(BaseModel):
    unit: str
    phone: str
    address: str = ""
    hours: str = ""


class OfficePhone(BaseModel):
    phone: str
    matters: list[str] = Field(default_factory=list, description="打这个电话办理的事项")


class ChatContact(Contact):
    """A contact in a chat reply: an office asked for by name also says which matters it handles, and which phone is for
    which (a unit is listed once, with all its phones)."""

    matters: list[str] = Field(default_factory=list, description="这个单位办理的事项（问某个单位的电话、地址时；其他回复为空）")
    phones: list[OfficePhone] = Field(default_factory=list, description="这个单位的全部电话，各自办理的事项（问某个单位的电话、"
                                                                        "地址时，每个单位只列一次，phone 是其中第一个；其他回复为空）")


class Supervision(BaseModel):
    department: str = Field(description="事项的责任部门（投诉先找它，而不是被投诉的窗口）")
    phone: str = Field(description="该事项的投诉监督电话（多数事项就是政务服务便民热线）")


class Button(BaseModel):
    title: str = Field(description="按钮文字")
    payload: str = Field(description="点击后作为 message 发回 /api/v1/chat 的内容")


class DocumentRef(BaseModel):
    title: str
    section: str = ""
    source: str = ""
    number: str = Field("", description="文号（政策文件头信息的 number），如 华容办文〔2022〕3号；没有时为空字符串")
    date: str = Field("", description="政策文件的日期（头信息的 date，YYYY-MM-DD）；没有时为空字符串")


class ChatResponse(BaseModel):
    kind: ReplyKind = Field(description="回复类型：answer 答案、confirm 先确认事项（“您问的是…吗？”，按钮 是 / 不是）、"
                                        "clarify 请用户选择事项、not_found 未找到、ask_item 追问事项、handoff 转人工、"
                                        "message 其他对话、empty 空消息、too_long 消息过长、unavailable 助手暂不可用、"
                                        "staff 工作人员正在接待：消息已转给工作人员（回复见 GET /api/v1/chat/staff）")
    messages: list[Message]
    guide: GuideRef | None = Field(None, description="答案所依据的办事指南；没有时为 null")
    document: DocumentRef | None = Field(None, description="政策类答案所引用的政策文件；没有时为 null")
    aspect: str | None = Field(None, description="所问方面：materials、process、time_limit、fee、location、contact、conditions、"
                                                 "online、general、policy")
    contacts: list[ChatContact] = Field(default_factory=list, description="办理窗口和电话（答案、转人工时；问某个单位的电话、"
                                                                           "地址而它办理几个事项时，是这些单位，kind 为 clarify）")
    buttons: list[Button] = Field(default_factory=list)
    confidence: float | None = Field(None, description="把握：检索正确的校准概率（0-1），仅答案有")
    handoff: bool = Field(False, description="是否已转人工（已生成人工服务记录）")
    answer_id: str | None = Field(None, description="这条回答的编号（仅答案有）：评价时作为 /api/v1/feedback 的 answer_id；"
                                                    "答案的好评 / 差评按钮的 payload 里也带着它", examples=["kqzvtmwrbahe"])
    supervision: Supervision | None = Field(None, description="投诉监督：对某个事项的投诉转人工时（kind 为 handoff），该事项的责任部门和"
                                                              "投诉监督电话，回复文字里也有；其他回复为 null")


COMMENT_DESCRIPTION = "差评时缺了什么或哪里不对（可选，仅随差评记录）"


class FeedbackRequest(_Strict):
    """The feedback body; the app uses `feedback_request_model`, whose comment has the configured limit."""

    session_id: str = Field(pattern=SESSION_ID_PATTERN, description="与 /api/v1/chat 相同的会话标识")
    answer_id: str = Field(pattern=f"^{ANSWER_ID_PATTERN}$", description="所评价的回答：/api/v1/chat 返回的 answer_id。"
                                                                         "评价记在这条回答（它的问题、指南、章节）上，不论之后又问了什么；"
                                                                         "该会话最近 10 条以外的回答不再能评价（recorded 为 false）",
                           examples=["kqzvtmwrbahe"])
    rating: Literal["good", "bad"] = Field(description="good 好评，bad 差评")
    comment: str | None = Field(None, description=COMMENT_DESCRIPTION)


@lru_cache
def feedback_request_model(max_chars: int) -> type[FeedbackRequest]:
    """FeedbackRequest with `comment` limited to `max_chars` (settings.message_max_chars, the same
    limit as a chat message), so the limit lives in settings.yml and shows in the OpenAPI document.

    ``feedback_request_model(2000).model_validate({"session_id": "a", "rating": "bad", "comment": "x" * 2001})``
    raises ValidationError (string_too_long, max_length 2000).
    """
    return create_model("FeedbackRequest", __base__=FeedbackRequest, __module__=__name__,
                        comment=(str | None, Field(None, max_length=max_chars, description=COMMENT_DESCRIPTION)))


class FeedbackResponse(BaseModel):
    recorded: bool = Field(description="助手是否已确认记录该评价（好评致谢；差评后请用户说明缺了什么，或已连同意见记录）；"
                                       "answer_id 不是该会话最近的回答时为 false，什么也不记录")
    rating: Literal["good", "bad"]
    comment_recorded: bool = Field(description="意见是否已随差评记录（助手确认已记录时为 true）")
    messages: list[Message] = Field(description="助手的回复（如“感谢您的好评”）")
    buttons: list[Button] = Field(default_factory=list)


class SessionRequest(_Strict):
    token: str = Field(min_length=1, max_length=512, description="KEFU_API_TOKEN")


class SessionResponse(BaseModel):
    authenticated: bool
    mode: Literal["kiosk", "public", "token"] | None = Field(
        None, description="kiosk 自助终端（令牌换的 Cookie）、public 公众模式的会话、token 用令牌调用；退出登录时为 null")
    session_prefix: str = Field("", description="公众模式：本会话只能使用以它开头的 session_id；其他模式为空（任意）")
    expires_in: int | None = Field(None, description="Cookie 还有多少秒过期（网页在过半时续期）；用令牌调用时为 null")


class GuideSummary(BaseModel):
    id: str
    title: str
    category: str
    department: str
    updated: str


class GuideList(BaseModel):
    index_version: str | None = Field(description="知识库索引版本")
    count: int
    guides: list[GuideSummary]


class GuideSection(BaseModel):
    text: str = Field(description="章节原文（Markdown）")
    items: list[str] = Field(description="编号条目（申请材料、办理流程）")


class Faq(BaseModel):
    question: str
    answer: str


class GuideDetail(BaseModel):
    id: str
    title: str
    aliases: list[str]
    category: str
    department: str
    contacts: list[Contact]
    complaint_phone: str
    region: str
    updated: str
    source: str
    questions: list[str]
    sections: dict[str, GuideSection] = Field(description="章节标题 → 内容，如 申请材料、办理流程、办理时限、收费标准、办理地点")
    faqs: list[Faq]
    notice_url: str


class ErrorBody(BaseModel):
    status: int
    code: str = Field(description="机器可读的错误代码，如 unauthorized、not_found、invalid_request")
    message: str = Field(description="给人看的中文说明")
    details: list[dict[str, str]] = Field(default_factory=list, description="逐个字段的问题：field、problem")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ExamplesResponse(BaseModel):
    """The example questions (the page's chips) and item names of the published index version."""

    questions: list[str] = Field(description="示例问题（网页的常见问题按钮），来自当前发布的指南；没有发布索引时为空")
    items: list[str] = Field(description="示例事项名称")


class Health(BaseModel):
    status: str
