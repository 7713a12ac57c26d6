"""Telegram, through aiogram 3: a Router per feature, CallbackData for buttons, FSM for prompts."""
