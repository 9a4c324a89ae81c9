"""Rasa custom actions (rasa-sdk, app environment). They answer from knowledge.retrieval.retriever.Retriever."""
