"""The console chat: a terminal messenger for trying the bot alone and for tests."""
