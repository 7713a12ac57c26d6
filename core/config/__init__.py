"""Config files read with line numbers: the org file (people, channels, reminders, holidays, webhooks)."""
