"""What a reader is shown: messages and buttons, cards, pages, notices, templates, languages."""
