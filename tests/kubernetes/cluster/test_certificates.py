"""Certificate state read from cert-manager's Certificates in a real API server: without the CRD,
then with the CRD installed and a Certificate whose status says Ready (written through the status
subresource, as cert-manager writes it). No-CRD runs first: the fixture removes the CRD after."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from deployer.targets.base import CertificateState
from deployer.targets.kubernetes.certificates import GROUP, NOT_INSTALLED, PLURAL, VERSION
from deployer.targets.kubernetes.render import namespace_for
from tests.kubernetes.conftest import STYLE

CRD = yaml.safe_load((Path(__file__).parent / "fixtures" / "cert-manager-certificate-crd.yaml").read_text())
NAME = CRD["metadata"]["name"]


def _wait(check, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {seconds}s")
        time.sleep(0.2)


def _served(api: client.ApiClient) -> bool:
    try:
        client.CustomObjectsApi(api).list_cluster_custom_object(GROUP, VERSION, PLURAL)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _remove_crd(api: client.ApiClient) -> None:
    extensions = client.ApiextensionsV1Api(api)
    try:
        extensions.delete_custom_resource_definition(NAME)
    except ApiException as exc:
        if exc.status != 404:
            raise
    _wait(lambda: not _served(api), f"{NAME} still served")


@pytest.fixture
def cert_manager_crd(cluster):
    """cert-manager's Certificate CRD installed and served; removed afterwards."""
    client.ApiextensionsV1Api(cluster.api).create_custom_resource_definition(CRD)
    _wait(lambda: _served(cluster.api), f"{NAME} not served")
    yield
    _remove_crd(cluster.api)


def _namespace(cluster, project: str) -> str:
    namespace = namespace_for(project, STYLE)
    client.CoreV1Api(cluster.api).create_namespace({"metadata": {"name": namespace}})
    return namespace


def _certificate(cluster, namespace: str, name: str, hosts: list[str], status: dict) -> None:
    objects = client.CustomObjectsApi(cluster.api)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Certificate",
        "metadata": {"name": name},
        "spec": {
            "secretName": name,
            "dnsNames": hosts,
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": STYLE.cluster_issuer},
        },
    }
    created = objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    created["status"] = status  # the main resource ignores status: only the subresource sets it
    objects.replace_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, created)


async def test_without_cert_manager_the_state_says_so(cluster, target, project):
    await asyncio.to_thread(_remove_crd, cluster.api)
    _namespace(cluster, project)
    states = await target.certificates(project, "production", ["www.example.com"])
    assert states == {"www.example.com": CertificateState("unavailable", NOT_INSTALLED)}


async def test_issued_and_pending_certificates_by_host(cluster, target, project, cert_manager_crd):
    namespace = _namespace(cluster, project)
    ready = {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Ready",
                "message": "Certificate is up to date and has not expired",
                "lastTransitionTime": "2026-01-10T12:00:00Z",
            }
        ],
        "notBefore": "2026-01-10T12:00:00Z",
        "notAfter": "2026-04-10T12:00:00Z",
        "revision": 1,
    }
    issuing = {
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
                "lastTransitionTime": "2026-01-10T12:00:00Z",
            },
            {
                "type": "Issuing",
                "status": "True",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
                "lastTransitionTime": "2026-01-10T12:00:00Z",
            },
        ]
    }
    await asyncio.to_thread(
        _certificate,
        cluster,
        namespace,
        "production-tls",
        ["shop.apps.example.com", "www.example.com"],
        ready,
    )
    await asyncio.to_thread(_certificate, cluster, namespace, "pr-1-tls", ["pr.example.com"], issuing)

    production = await target.certificates(project, "production", ["www.example.com", "other.example.com"])
    preview = await target.certificates(project, "pr-1", ["pr.example.com"])

    assert production["www.example.com"] == CertificateState(
        "issued", "valid until 2026-04-10", datetime(2026, 4, 10, 12, tzinfo=UTC)
    )
    assert production["other.example.com"].state == "none"
    assert preview["pr.example.com"] == CertificateState(
        "pending", "DoesNotExist: Issuing certificate as Secret does not exist"
    )
