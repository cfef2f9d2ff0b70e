"""Runtime logs on the cluster: the environment's pods' `app` logs through the API, merged by
time, with tail / since / previous, and followed line by line (against a recording CoreV1Api)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from deployer.runtime_logs import RuntimeQuery
from deployer.targets.kubernetes.errors import ClusterError
from deployer.targets.kubernetes.podlogs import PodLogs, log_arguments, stamp_time

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
SELECTOR = {"autostack.dev/project": "shop", "autostack.dev/environment": "pr-2"}


class Followed:
    """A followed log: lines, then the end (or blocked until shut down)."""

    def __init__(self, lines: list[bytes], block: bool = False) -> None:
        self.lines, self.block, self.shut = lines, block, threading.Event()

    def __iter__(self):
        yield from self.lines
        if self.block:
            self.shut.wait(5)

    def shutdown(self) -> None:
        self.shut.set()

    def close(self) -> None:
        pass


class Core:
    def __init__(self, logs: dict[str, str], previous_missing: bool = False, block: bool = False) -> None:
        self.logs, self.previous_missing, self.block = logs, previous_missing, block
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.selectors: list[str] = []

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> Any:
        self.selectors.append(label_selector)
        pods = [
            SimpleNamespace(
                metadata=SimpleNamespace(name=name, creation_timestamp=NOW + timedelta(minutes=i)),
                spec=SimpleNamespace(node_name="node-1"),
            )
            for i, name in enumerate(self.logs)
        ]
        pods.append(
            SimpleNamespace(
                metadata=SimpleNamespace(name="pending", creation_timestamp=NOW),
                spec=SimpleNamespace(node_name=None),
            )
        )
        return SimpleNamespace(items=pods)

    def read_namespaced_pod_log(self, name: str, namespace: str, **kwargs: Any) -> Any:
        self.calls.append((name, kwargs))
        if kwargs["previous"] and self.previous_missing:
            raise ApiException(status=400, reason="Bad Request")
        text = self.logs[name]
        if kwargs["follow"]:
            return Followed([raw.encode() + b"\n" for raw in text.splitlines()], self.block)
        return SimpleNamespace(data=text.encode())


A = "2026-12-02T10:00:01.000000001Z a1\n2026-12-02T10:00:03.5Z a2\n"
B = "2026-12-02T10:00:02.25Z b1\n"


@pytest.mark.parametrize(
    ("stamp", "moment"),
    [
        ("2026-12-02T10:00:01.123456789Z", datetime(2026, 12, 2, 10, 0, 1, 123456, tzinfo=UTC)),
        ("2026-12-02T10:00:01Z", datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC)),
        ("2026-12-02T10:00:01.5Z", datetime(2026, 12, 2, 10, 0, 1, 500000, tzinfo=UTC)),
    ],
)
def test_stamp_time(stamp, moment):
    assert stamp_time(stamp) == moment


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (RuntimeQuery(), {"follow": False, "previous": False, "tail_lines": 200}),
        (RuntimeQuery(follow=True, tail=0), {"follow": True, "previous": False, "tail_lines": 0}),
        # a crashed container's log has ended: it is never followed
        (RuntimeQuery(follow=True, previous=True), {"follow": False, "previous": True, "tail_lines": 200}),
        (
            RuntimeQuery(since=NOW - timedelta(seconds=90.2)),
            {"follow": False, "previous": False, "tail_lines": 200, "since_seconds": 91},
        ),
    ],
    ids=["defaults", "follow", "previous", "since"],
)
def test_log_arguments(query, expected):
    assert log_arguments(query, NOW) == {
        "container": "app",
        "timestamps": True,
        "_preload_content": False,
        **expected,
    }


async def test_every_scheduled_pod_merged_by_time_and_tailed():
    core = Core({"web-a": A, "web-b": B})
    logs = PodLogs(core, "autostack-shop", SELECTOR)  # type: ignore[arg-type]
    lines = [line async for line in logs.read(RuntimeQuery(tail=2))]
    assert [line.text for line in lines] == ["b1", "a2"]
    assert core.selectors == ["autostack.dev/environment=pr-2,autostack.dev/project=shop"]
    assert [name for name, _ in core.calls] == ["web-a", "web-b"]  # never the unscheduled pod


async def test_previous_skips_a_pod_that_never_restarted():
    core = Core({"web-a": A}, previous_missing=True)
    logs = PodLogs(core, "autostack-shop", SELECTOR)  # type: ignore[arg-type]
    assert [line async for line in logs.read(RuntimeQuery(previous=True))] == []
    assert core.calls[0][1]["previous"] is True


async def test_follow_yields_lines_as_they_come_and_stops_its_readers():
    core = Core({"web-a": A, "web-b": B}, block=True)
    logs = PodLogs(core, "autostack-shop", SELECTOR)  # type: ignore[arg-type]
    seen = []
    async for line in logs.read(RuntimeQuery(follow=True)):
        seen.append(line.text)
        if len(seen) == 3:
            break
    assert sorted(seen) == ["a1", "a2", "b1"]
    assert all(kwargs["follow"] for _, kwargs in core.calls)


async def test_an_api_refusal_is_a_cluster_error_naming_what_was_read():
    class Refusing(Core):
        def read_namespaced_pod_log(self, name: str, namespace: str, **kwargs: Any) -> Any:
            raise ApiException(status=403, reason="Forbidden")

    logs = PodLogs(Refusing({"web-a": A}), "autostack-shop", SELECTOR)  # type: ignore[arg-type]
    with pytest.raises(ClusterError, match="reading the log of pod web-a: 403 Forbidden"):
        [line async for line in logs.read(RuntimeQuery())]
