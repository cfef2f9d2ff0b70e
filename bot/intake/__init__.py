"""Webhook intake: verify, store with group commit, answer, relay to the queue."""
