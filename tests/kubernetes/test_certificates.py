"""cert-manager Certificate status → the domains page's state (tables), and host matching."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deployer.targets.base import CertificateState
from deployer.targets.kubernetes.certificates import certificate_state, covers, host_states


def cond(kind, status, reason=None, message=None):
    found = {"type": kind, "status": status, "lastTransitionTime": "2026-01-10T12:00:00Z"}
    if reason:
        found["reason"] = reason
    if message:
        found["message"] = message
    return found


READY = cond("Ready", "True", "Ready", "Certificate is up to date and has not expired")
NOT_FOUND = cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist")
FAILED_ISSUING = cond(
    "Issuing",
    "False",
    "Failed",
    "The certificate request has failed to complete and will be retried: 429 rateLimited",
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {"conditions": [READY], "notAfter": "2026-04-10T12:00:00Z", "notBefore": "2026-01-10T12:00:00Z"},
            CertificateState("issued", "valid until 2026-04-10", datetime(2026, 4, 10, 12, tzinfo=UTC)),
        ),
        ({"conditions": [READY]}, CertificateState("issued")),
        (None, CertificateState("pending", "waiting for cert-manager")),
        ({}, CertificateState("pending", "waiting for cert-manager")),
        (
            {
                "conditions": [
                    NOT_FOUND,
                    cond("Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not exist"),
                ]
            },
            CertificateState("pending", "DoesNotExist: Issuing certificate as Secret does not exist"),
        ),
        (
            {
                "conditions": [
                    cond("Issuing", "True", "Renewing", "Renewing certificate as renewal was scheduled")
                ]
            },
            CertificateState("pending", "Renewing: Renewing certificate as renewal was scheduled"),
        ),
        (
            {
                "conditions": [NOT_FOUND, cond("Issuing", "True", "DoesNotExist")],
                "lastFailureTime": "2026-01-10T11:00:00Z",
                "failedIssuanceAttempts": 2,
            },
            CertificateState(
                "pending",
                "DoesNotExist: Issuing certificate as Secret does not exist (retrying after 2 failed attempts)",
            ),
        ),
        (
            {
                "conditions": [NOT_FOUND, FAILED_ISSUING],
                "lastFailureTime": "2026-01-10T11:00:00Z",
                "failedIssuanceAttempts": 1,
            },
            CertificateState(
                "failed",
                "Failed: The certificate request has failed to complete and will be retried: 429 rateLimited",
            ),
        ),
        (
            {"conditions": [NOT_FOUND], "lastFailureTime": "2026-01-10T11:00:00Z"},
            CertificateState("failed", "DoesNotExist: Issuing certificate as Secret does not exist"),
        ),
        (
            {"conditions": [cond("Ready", "False", "Expired", "Certificate expired on 2026-01-01")]},
            CertificateState("failed", "Expired: Certificate expired on 2026-01-01"),
        ),
        ({"conditions": [cond("Ready", "Unknown")]}, CertificateState("pending", "waiting for cert-manager")),
    ],
)
def test_certificate_state(status, expected):
    assert certificate_state({"kind": "Certificate", "status": status}) == expected


@pytest.mark.parametrize(
    ("name", "host", "covered"),
    [
        ("www.example.com", "www.example.com", True),
        ("WWW.example.com.", "www.example.com", True),
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "example.com", False),
        ("example.com", "www.example.com", False),
    ],
)
def test_covers(name, host, covered):
    assert covers(name, host) is covered


def certificate(name, secret, hosts, *conditions):
    return {
        "metadata": {"name": name},
        "spec": {"secretName": secret, "dnsNames": hosts},
        "status": {"conditions": list(conditions)},
    }


def test_host_states_prefer_the_environments_tls_secret_then_the_best_state():
    certificates = [
        certificate("old", "old-tls", ["a.example.com", "b.example.com"], READY),
        certificate("production-tls", "production-tls", ["a.example.com"], NOT_FOUND, FAILED_ISSUING),
        certificate("pr-1-tls", "pr-1-tls", ["b.example.com"], NOT_FOUND, cond("Issuing", "True")),
    ]
    states = host_states(certificates, ["a.example.com", "b.example.com", "c.example.com"], "production-tls")
    assert states["a.example.com"].state == "failed"  # the one the Ingress serves, though another is issued
    assert states["b.example.com"].state == "issued"  # neither is production's: the best state
    assert states["c.example.com"] == CertificateState("none", "no Certificate lists this host yet")
