"""The chat: typed words read into commands, form dialogs, tap codes for buttons."""
