"""Telegram through python-telegram-bot 22: long polling by default, webhook with secret token."""
