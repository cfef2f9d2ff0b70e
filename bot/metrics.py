"""Prometheus metrics, in a registry of our own so each app instance counts for itself."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_EVENT_NAME = re.compile(r"^[a-z_]{1,64}$")


def event_label(event: str | None) -> str:
    """A bounded label value for an event name taken from a request header."""
    return event if event and _EVENT_NAME.match(event) else "invalid"


class Metrics:
    """The counters, histograms and gauges `/metrics` serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "autostack_webhook_deliveries",
            "Webhook deliveries received, by event and outcome (accepted, duplicate, rejected).",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "autostack_job_duration_seconds",
            "Time spent running queued jobs, by job and outcome.",
            ["job", "outcome"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
        )
        self.queue_depth = Gauge(
            "autostack_queue_depth", "Jobs waiting in the arq queue.", registry=self.registry
        )
        self.outbox_pending = Gauge(
            "autostack_outbox_pending",
            "Deliveries stored but not yet queued.",
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
