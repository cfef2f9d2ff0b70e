"""A kind the cluster's discovery does not list: an API group answering 503 (an API server
starting, an aggregated API down) is the cluster's temporary error, so the deployment is
retried; a cluster that does not serve the group or the kind is a permanent error naming it.
The real client runs against an API server that answers discovery with Kubernetes' own shapes
and the faults injected here, which a healthy control plane cannot be made to give."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client

from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.errors import ClusterError, ClusterTemporaryError
from store.errors import is_temporary
from tests.servers import free_port

GROUPS = {"apps": "v1", "autoscaling": "v1"}  # no autoscaling/v2: a cluster older than 1.23
RESOURCES = {
    "/api/v1": [("configmaps", "ConfigMap")],
    "/apis/apps/v1": [("deployments", "Deployment")],
    "/apis/autoscaling/v1": [("horizontalpodautoscalers", "HorizontalPodAutoscaler")],
}


@dataclass
class Faults:
    """How many more times each path answers 503, and the paths asked."""

    unavailable: dict[str, int] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


def _answer(path: str) -> tuple[int, object]:
    if path == "/version":
        return 200, {"major": "1", "minor": "22", "gitVersion": "v1.22.17"}
    if path == "/api":
        return 200, {"kind": "APIVersions", "versions": ["v1"]}
    if path == "/apis":
        groups = [
            {
                "name": name,
                "versions": [{"groupVersion": f"{name}/{version}", "version": version}],
                "preferredVersion": {"groupVersion": f"{name}/{version}", "version": version},
            }
            for name, version in GROUPS.items()
        ]
        return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    if path in RESOURCES:
        version = path.removeprefix("/apis/").removeprefix("/api/")
        listed = [
            {"name": name, "singularName": "", "namespaced": True, "kind": kind, "verbs": ["get", "list"]}
            for name, kind in RESOURCES[path]
        ]
        return 200, {"kind": "APIResourceList", "groupVersion": version, "resources": listed}
    return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}


@pytest.fixture
def api_server() -> Iterator[tuple[str, Faults]]:
    faults = Faults()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            faults.asked.append(self.path)
            if faults.unavailable.get(self.path, 0) > 0:
                faults.unavailable[self.path] -= 1
                status, body = (
                    503,
                    {
                        "kind": "Status",
                        "status": "Failure",
                        "message": "the server is currently unable to handle the request",
                        "reason": "ServiceUnavailable",
                        "code": 503,
                    },
                )
            else:
                status, body = _answer(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", faults
    server.shutdown()
    server.server_close()


def _cluster(host: str) -> Cluster:
    configuration = client.Configuration()
    configuration.host = host
    return Cluster(client.ApiClient(configuration))


def test_a_listed_kind_is_found(api_server):
    host, _faults = api_server
    assert _cluster(host).resource("apps/v1", "Deployment").kind == "Deployment"


def test_a_group_answering_503_is_a_temporary_error(api_server):
    host, faults = api_server
    faults.unavailable["/apis/apps/v1"] = 100

    with pytest.raises(ClusterTemporaryError, match="discovering Deployment in apps/v1") as raised:
        _cluster(host).resource("apps/v1", "Deployment")

    assert "unable to handle the request" in str(raised.value) and is_temporary(raised.value)


def test_a_group_back_by_the_time_it_is_asked_is_still_temporary(api_server):
    """Discovery read the group twice while it answered 503 and gave up; when asked, the group
    lists the kind: the next try finds it."""
    host, faults = api_server
    faults.unavailable["/apis/apps/v1"] = 2
    cluster = _cluster(host)

    with pytest.raises(ClusterTemporaryError, match="listed it only after discovery ran"):
        cluster.resource("apps/v1", "Deployment")

    assert cluster.resource("apps/v1", "Deployment").kind == "Deployment"


@pytest.mark.parametrize(
    ("api_version", "kind", "why"),
    [
        ("autoscaling/v2", "HorizontalPodAutoscaler", "the cluster does not serve autoscaling/v2"),
        ("v1", "PersistentVolumeClaim", "the cluster's v1 has no PersistentVolumeClaim"),
    ],
)
def test_a_kind_the_cluster_does_not_serve_is_a_permanent_error_naming_it(api_server, api_version, kind, why):
    host, _faults = api_server

    with pytest.raises(ClusterError, match=why) as raised:
        _cluster(host).resource(api_version, kind)

    assert not is_temporary(raised.value)
