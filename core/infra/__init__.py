"""The machinery: the store, the outbox and its delivery, rate limits, dedupe, the scheduler, webhooks, threads."""
