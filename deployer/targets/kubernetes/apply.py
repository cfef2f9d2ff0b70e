"""Server-side apply of rendered objects, pruning by label, and teardown by label."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError
from urllib3.exceptions import HTTPError

from deployer.targets.kubernetes.errors import (
    ClusterError,
    ClusterTemporaryError,
    unreachable,
    wrap_api_error,
)

FIELD_MANAGER = "autostack"
# Every namespaced kind AutoStack creates for an environment (build Jobs and their source
# ConfigMaps included); prune and teardown look only at these.
ENVIRONMENT_KINDS = (
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "Service"),
    ("batch/v1", "Job"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "PersistentVolumeClaim"),  # BuildKit's state between builds (manifests/build-cache.yaml.j2)
)

_API_VERSION = {kind: api_version for api_version, kind in ENVIRONMENT_KINDS}
BUILD_KINDS = ("Job", "ConfigMap")
# what a build creates (its Job, its credential Secret) carries this label; prune leaves it alone
BUILD_COMPONENT = ("autostack.dev/component", "build")


class FieldConflict(ClusterError):
    """Another field manager owns fields AutoStack wants to set; nothing was forced."""


def selector_text(labels: dict[str, str]) -> str:
    """`k=v,k=v` for a label selector."""
    return ",".join(f"{k}={v}" for k, v in labels.items())


class Cluster:
    """The cluster operations the target needs, over the dynamic client (blocking calls)."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        self._dynamic: dynamic.DynamicClient | None = None

    @property
    def dynamic(self) -> dynamic.DynamicClient:
        """The dynamic client; discovery runs on first use, not at construction."""
        if self._dynamic is None:
            with _discovering():
                self._dynamic = dynamic.DynamicClient(self.api)
        return self._dynamic

    def resource(self, api_version: str, kind: str) -> Any:
        """The API resource of a kind (a kind not yet known runs discovery again)."""
        with _discovering():
            try:
                return self.dynamic.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                raise self._not_discovered(api_version, kind) from None

    def _not_discovered(self, api_version: str, kind: str) -> Exception:
        """Why discovery found no `kind`: the client reads a group answering 503 (an API server
        starting, an aggregated API down) as a group without kinds, so ask the group itself."""
        path = ("/apis/" if "/" in api_version else "/api/") + api_version
        doing = f"discovering {kind} in {api_version}"
        try:
            found = self.api.call_api(
                path,
                "GET",
                auth_settings=["BearerToken"],
                response_types_map={200: "object"},
                _return_http_data_only=True,
                _request_timeout=10,
            )
        except (ApiException, HTTPError) as exc:
            if getattr(exc, "status", None) == 404:
                return ClusterError(f"{doing}: the cluster does not serve {api_version}")
            return wrap_api_error(exc, doing)
        listed = found.get("resources") if isinstance(found, dict) else None
        if any(isinstance(r, dict) and r.get("kind") == kind for r in listed or []):
            return ClusterTemporaryError(f"{doing}: the API server listed it only after discovery ran")
        return ClusterError(f"{doing}: the cluster's {api_version} has no {kind}")

    def apply(self, objects: list[dict[str, Any]]) -> None:
        """Server-side apply each object as `autostack`; a conflict raises FieldConflict."""
        for obj in objects:
            meta = obj["metadata"]
            what = f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " ")
            try:
                self.dynamic.server_side_apply(
                    self.resource(obj["apiVersion"], obj["kind"]),
                    body=obj,
                    namespace=meta.get("namespace"),
                    field_manager=FIELD_MANAGER,
                    force_conflicts=False,
                )
            except ApiException as exc:
                if exc.status == 409:
                    raise FieldConflict(f"applying {what}: {_conflicts(exc)}; not forced") from exc
                raise wrap_api_error(exc, f"applying {what}") from exc
            except HTTPError as exc:
                raise wrap_api_error(exc, f"applying {what}") from exc

    def names(
        self, namespace: str, labels: dict[str, str], unless: tuple[str, str] | None = None
    ) -> set[tuple[str, str]]:
        """(kind, name) of every environment object matching `labels` in `namespace`, except
        those labelled `unless` (a key and value)."""
        selector = selector_text(labels) + (f",{unless[0]}!={unless[1]}" if unless else "")
        found = set()
        for api_version, kind in ENVIRONMENT_KINDS:
            try:
                items = self.resource(api_version, kind).get(namespace=namespace, label_selector=selector)
            except (ApiException, HTTPError) as exc:
                raise wrap_api_error(exc, f"listing {kind}s in {namespace}") from exc
            found |= {(kind, item.metadata.name) for item in items.items}
        return found

    def get(self, namespace: str, kind: str, name: str) -> dict[str, Any] | None:
        """One environment object as a dict; None when it does not exist."""
        try:
            found = self.resource(_API_VERSION[kind], kind).get(name=name, namespace=namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise wrap_api_error(exc, f"reading {kind} {namespace}/{name}") from exc
        except HTTPError as exc:
            raise wrap_api_error(exc, f"reading {kind} {namespace}/{name}") from exc
        return dict(found.to_dict())

    def delete(self, namespace: str, kind: str, name: str) -> None:
        """Delete one object (and, in the background, what it owns); gone already is fine."""
        api_version = _API_VERSION[kind]
        try:
            self.resource(api_version, kind).delete(
                name=name, namespace=namespace, body={"propagationPolicy": "Background"}
            )
        except ApiException as exc:
            if exc.status != 404:
                raise wrap_api_error(exc, f"deleting {kind} {namespace}/{name}") from exc
        except HTTPError as exc:
            raise wrap_api_error(exc, f"deleting {kind} {namespace}/{name}") from exc

    def prune(self, namespace: str, labels: dict[str, str], keep: list[dict[str, Any]]) -> list[str]:
        """Delete the environment's objects that the new render no longer contains.

        Build Jobs, their sources and credentials are not part of the render: a Job goes by its
        own TTL, its credential with the build, even when another deployment releases meanwhile.
        """
        wanted = {(o["kind"], o["metadata"]["name"]) for o in keep}
        found = self.names(namespace, labels, unless=BUILD_COMPONENT)
        stale = sorted(k for k in found - wanted if k[0] not in BUILD_KINDS)
        for kind, name in stale:
            self.delete(namespace, kind, name)
        return [f"{k}/{n}" for k, n in stale]

    def teardown(self, namespace: str, labels: dict[str, str]) -> list[str]:
        """Delete every object of the environment, whatever rendered it."""
        gone = sorted(self.names(namespace, labels))
        for kind, name in gone:
            self.delete(namespace, kind, name)
        return [f"{k}/{n}" for k, n in gone]


@contextlib.contextmanager
def _discovering() -> Iterator[None]:
    """The client's errors while it discovers the cluster's APIs, as ours."""
    try:
        yield
    except (ApiException, HTTPError) as exc:
        raise wrap_api_error(exc, "discovering the cluster's APIs") from exc
    except ValueError as exc:
        # over http://, discovery reports a dropped connection as a complaint about the scheme
        cause = unreachable(exc)
        if cause is None:
            raise
        raise wrap_api_error(cause, "discovering the cluster's APIs") from exc


def _conflicts(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return str(exc.reason)
    causes = body.get("details", {}).get("causes", [])
    if not causes:
        return str(body.get("message", exc.reason))
    return "; ".join(f"{c.get('field', '?')}: {c.get('message', '')}" for c in causes)
