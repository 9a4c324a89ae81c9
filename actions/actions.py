"""The custom actions of the assistant (rasa-sdk), one class per action, registered from here
(actions/server.py registers this module):

- action_answer (answer.py): every question; the retriever decides which guide, the intent which section.
- action_handoff (handoff.py): request_human and complain.
- action_record_feedback / action_save_feedback_comment (feedback.py): 好评 / 差评 and what was missing.
- action_reply_confirmation (feedback.py): 是 / 不是 after an offer ("您问的是…吗？", 转人工).
"""

from __future__ import annotations

from actions.answer import ActionAnswer
from actions.feedback import ActionRecordFeedback, ActionReplyConfirmation, ActionSaveFeedbackComment
from actions.handoff import ActionHandoff
from actions.runtime import wait_for_records

__all__ = ["ActionAnswer", "ActionHandoff", "ActionRecordFeedback", "ActionReplyConfirmation", "ActionSaveFeedbackComment",
           "wait_for_records"]
