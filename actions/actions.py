"""The custom actions of the assistant (rasa-sdk), one class per action, each given the services it
needs (actions/server.py registers `all_actions(services)`):

- action_greet (greet.py): 你好 and "你是机器人吗", with example questions from the published guides.
- action_chitchat (chitchat.py): small talk, unless it asks when or where the office is open ("周末上班不").
- action_answer (answer.py): every question; the retriever decides which guide, the policy
  (policy.py) what to do in this conversation, the intent which section.
- action_handoff (handoff.py): request_human and complain.
- action_record_feedback / action_save_feedback_comment (feedback.py): 好评 / 差评 and what was missing.
- action_reply_confirmation (feedback.py): 是 / 不是 after an offer ("您问的是…吗？", 转人工).
"""

from __future__ import annotations

from rasa_sdk import Action

from actions.answer import ActionAnswer
from actions.chitchat import ActionChitchat
from actions.feedback import ActionRecordFeedback, ActionReplyConfirmation, ActionSaveFeedbackComment
from actions.greet import ActionGreet
from actions.handoff import ActionHandoff
from actions.services import Services

ACTION_CLASSES = (ActionGreet, ActionChitchat, ActionAnswer, ActionHandoff, ActionRecordFeedback, ActionSaveFeedbackComment, ActionReplyConfirmation)


def all_actions(services: Services) -> list[Action]:
    """One instance of every action, sharing the services."""
    return [action(services) for action in ACTION_CLASSES]
