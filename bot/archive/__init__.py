"""Retention: old deployment logs and webhook payloads archived to S3, then pruned."""
