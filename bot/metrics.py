"""Prometheus metrics, in a registry of our own so each app instance counts for itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from deployer.state import IN_PROGRESS, TERMINAL

# GitHub's webhook events. The event header of an unsigned request is anybody's text: a label
# per distinct value would let a flood of them grow /metrics (and memory) without bound.
GITHUB_EVENTS = frozenset(
    [
        "branch_protection_configuration",
        "branch_protection_rule",
        "check_run",
        "check_suite",
        "code_scanning_alert",
        "commit_comment",
        "create",
        "custom_property",
        "custom_property_values",
        "delete",
        "dependabot_alert",
        "deploy_key",
        "deployment",
        "deployment_protection_rule",
        "deployment_review",
        "deployment_status",
        "discussion",
        "discussion_comment",
        "fork",
        "github_app_authorization",
        "gollum",
        "installation",
        "installation_repositories",
        "installation_target",
        "issue_comment",
        "issues",
        "label",
        "marketplace_purchase",
        "member",
        "membership",
        "merge_group",
        "meta",
        "milestone",
        "org_block",
        "organization",
        "package",
        "page_build",
        "personal_access_token_request",
        "ping",
        "project",
        "project_card",
        "project_column",
        "projects_v2",
        "projects_v2_item",
        "projects_v2_status_update",
        "public",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "pull_request_review_thread",
        "push",
        "registry_package",
        "release",
        "repository",
        "repository_advisory",
        "repository_dispatch",
        "repository_import",
        "repository_ruleset",
        "repository_vulnerability_alert",
        "secret_scanning_alert",
        "secret_scanning_alert_location",
        "secret_scanning_scan",
        "security_advisory",
        "security_and_analysis",
        "sponsorship",
        "star",
        "status",
        "sub_issues",
        "team",
        "team_add",
        "watch",
        "workflow_dispatch",
        "workflow_job",
        "workflow_run",
    ]
)


def event_label(event: str | None) -> str:
    """A bounded label value for an event name taken from a request header."""
    if not event:
        return "invalid"
    return event if event in GITHUB_EVENTS else "other"


RECONCILER_OUTCOMES = ("done", "deferred", "no_app", "failed")


class ReconcilerCounts(Collector):
    """The delivery reconciler's counters. They live in the database (the reconciler runs in
    whichever worker got the lease), so `/metrics` reads them into `counts` before rendering."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "autostack_reconciler_runs",
            "Delivery reconciler runs, by outcome (done, deferred, no_app, failed).",
            labels=["outcome"],
        )
        for outcome in RECONCILER_OUTCOMES:
            runs.add_metric([outcome], self.counts.get(f"runs_{outcome}", 0))
        yield runs
        yield CounterMetricFamily(
            "autostack_redeliveries_requested",
            "Failed webhook deliveries AutoStack asked GitHub to redeliver.",
            value=self.counts.get("requested", 0),
        )
        yield CounterMetricFamily(
            "autostack_redeliveries_refused",
            "Redeliveries GitHub refused (never asked again).",
            value=self.counts.get("refused", 0),
        )


class StoredGauges(Collector):
    """Deployments by state and the cluster reconciler's actions, read from the database (the
    same in every process) and the GitHub budget left, read from Redis, at each scrape."""

    def __init__(self) -> None:
        self.deployments: dict[str, int] = {}
        self.cluster_actions: dict[str, int] = {}
        self.budget: dict[int, dict[str, float]] = {}

    def collect(self) -> Iterator[Metric]:
        by_state = GaugeMetricFamily(
            "autostack_deployments",
            "Deployments stored, by state (every process reports all).",
            labels=["state"],
        )
        for state in sorted({*IN_PROGRESS, *TERMINAL, *self.deployments}):
            by_state.add_metric([state], self.deployments.get(state, 0))
        yield by_state
        actions = CounterMetricFamily(
            "autostack_cluster_reconciler_actions",
            "Environments the cluster reconciler acted on: expired (idle previews), reclaimed (orphans).",
            labels=["action"],
        )
        for action in ("expired", "reclaimed"):
            actions.add_metric([action], self.cluster_actions.get(f"environment.{action}", 0))
        yield actions
        left = GaugeMetricFamily(
            "autostack_github_budget_remaining",
            "Content-creating GitHub calls left in the shared minute and hour windows, per installation.",
            labels=["installation", "window"],
        )
        blocked = GaugeMetricFamily(
            "autostack_github_blocked_seconds",
            "Seconds an installation's GitHub calls stay held back by GitHub's last rate limit.",
            labels=["installation"],
        )
        for installation, figures in sorted(self.budget.items()):
            for window in ("minute", "hour"):
                left.add_metric([str(installation), window], figures[window])
            blocked.add_metric([str(installation)], figures["blocked"])
        yield left
        yield blocked


class Metrics:
    """The counters, histograms and gauges `/metrics` serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._delivery_counters: dict[tuple[str, str], Any] = {}
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
            "autostack_queue_depth",
            "Jobs in an arq queue (deliveries, deploys), deferred retries included.",
            ["queue"],
            registry=self.registry,
        )
        self.queue_oldest = Gauge(
            "autostack_queue_oldest_seconds",
            "Age of the oldest job due in an arq queue and not yet taken (0: none waiting).",
            ["queue"],
            registry=self.registry,
        )
        self.phase_seconds = Histogram(
            "autostack_deployment_phase_seconds",
            "Time deployments spent in each phase (source, detect, install, build, start, health, ...).",
            ["phase"],
            registry=self.registry,
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800),
        )
        self.deployments_finished = Counter(
            "autostack_deployments_finished",
            "Deployments this process ran to a terminal state, by state.",
            ["state"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "autostack_outbox_pending",
            "Deliveries stored and not yet picked up by a worker (queued, or waiting for the relay).",
            registry=self.registry,
        )
        self.reconciler = ReconcilerCounts()
        self.registry.register(self.reconciler)
        self.stored = StoredGauges()
        self.registry.register(self.stored)

    def count_delivery(self, event: str | None, outcome: str) -> None:
        """Count one delivery by event and outcome (accepted, duplicate, rejected, unavailable)."""
        key = (event_label(event), outcome)
        child = self._delivery_counters.get(key)
        if child is None:
            # labels() takes a lock and builds a key each time; the intake counts every request
            child = self._delivery_counters[key] = self.deliveries.labels(*key)
        child.inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
