"""Teamflow's platform-neutral core: domain, services, store, outbox.

Nothing in this package imports a chat platform library (aiogram, slack_bolt,
slack_sdk); tests/test_architecture.py keeps it that way.
"""
