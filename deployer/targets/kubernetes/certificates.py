"""cert-manager's Certificates (made by its ingress-shim from each Ingress' TLS block) read back
per host name for the domains page: issued, pending, failed or none."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from deployer.targets.base import CertificateState
from deployer.targets.kubernetes.apply import Cluster
from deployer.targets.kubernetes.errors import wrap_api_error

GROUP, VERSION, PLURAL = "cert-manager.io", "v1", "certificates"
NOT_INSTALLED = "cert-manager not installed (the cluster serves no certificates.cert-manager.io/v1)"
_RANK = {"issued": 0, "pending": 1, "failed": 2}


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def _why(condition: dict[str, Any] | None) -> str:
    if condition is None:
        return ""
    return ": ".join(part for part in (condition.get("reason"), condition.get("message")) if part)


def _time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def certificate_state(certificate: dict[str, Any]) -> CertificateState:
    """The state of one Certificate from its status: Ready=True is issued; an issuance under way
    (Issuing=True) or no verdict yet is pending; a failed issuance or Ready=False is failed."""
    status = certificate.get("status") or {}
    ready, issuing = _condition(status, "Ready"), _condition(status, "Issuing")
    if ready is not None and ready.get("status") == "True":
        not_after = _time(status.get("notAfter"))
        return CertificateState("issued", f"valid until {not_after:%Y-%m-%d}" if not_after else "", not_after)
    if issuing is not None and issuing.get("status") == "True":
        attempts = status.get("failedIssuanceAttempts")
        retry = f" (retrying after {attempts} failed attempts)" if attempts else ""
        return CertificateState("pending", (_why(ready) or _why(issuing) or "issuing") + retry)
    if status.get("lastFailureTime") or (issuing is not None and issuing.get("reason") == "Failed"):
        # the Issuing condition carries the failed request's message; Ready only says "not ready"
        return CertificateState("failed", _why(issuing) or _why(ready) or "issuance failed")
    if ready is None or ready.get("status") != "False":
        return CertificateState("pending", _why(ready) or "waiting for cert-manager")
    return CertificateState("failed", _why(ready))


def covers(name: str, host: str) -> bool:
    """Whether a dnsNames entry covers `host` (a wildcard covers exactly one label)."""
    name, host = name.lower().rstrip("."), host.lower().rstrip(".")
    if name.startswith("*."):
        return host.count(".") > 1 and host.split(".", 1)[1] == name[2:]
    return name == host


def host_states(
    certificates: Sequence[dict[str, Any]], hostnames: Sequence[str], tls_secret: str
) -> dict[str, CertificateState]:
    """Each host's state from the Certificates that list it; the one for the environment's TLS
    secret (the one its Ingress serves) wins, then the best state."""
    states = {}
    for host in hostnames:
        found = [
            ((c.get("spec") or {}).get("secretName") != tls_secret, certificate_state(c))
            for c in certificates
            if any(covers(name, host) for name in (c.get("spec") or {}).get("dnsNames") or [])
        ]
        found.sort(key=lambda pair: (pair[0], _RANK[pair[1].state]))
        states[host] = (
            found[0][1] if found else CertificateState("none", "no Certificate lists this host yet")
        )
    return states


def list_certificates(cluster: Cluster, namespace: str) -> list[dict[str, Any]] | None:
    """The namespace's Certificates; None when cert-manager's CRD is not installed (blocking)."""
    try:
        found = client.CustomObjectsApi(cluster.api).list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise wrap_api_error(exc, f"listing cert-manager Certificates in {namespace}") from exc
    except HTTPError as exc:
        raise wrap_api_error(exc, f"listing cert-manager Certificates in {namespace}") from exc
    return list(found.get("items") or [])


def certificate_states(
    cluster: Cluster, namespace: str, hostnames: Sequence[str], tls_secret: str
) -> dict[str, CertificateState]:
    """Each host's certificate state in `namespace`, or "unavailable" without cert-manager (blocking)."""
    found = list_certificates(cluster, namespace)
    if found is None:
        return {host: CertificateState("unavailable", NOT_INSTALLED) for host in hostnames}
    return host_states(found, hostnames, tls_secret)
