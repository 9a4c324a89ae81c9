"""Rasa custom actions (rasa-sdk, app environment). They answer from knowledge.retriever.Retriever."""
