"""Channels: the Telegram bot (python-telegram-bot) and the 智能云客服 HTTP backend."""
