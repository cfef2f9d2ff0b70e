"""Client exceptions become our permanent or temporary errors; bad access is a clear error."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from deployer.targets.kubernetes.access import ClusterAccess, api_client
from deployer.targets.kubernetes.errors import ClusterError, ClusterTemporaryError, wrap_api_error


def _api(status, message):
    exc = ApiException(status=status, reason="Reason")
    exc.body = json.dumps({"message": message})
    return exc


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (403, ClusterError),
        (404, ClusterError),
        (422, ClusterError),
        (429, ClusterTemporaryError),
        (503, ClusterTemporaryError),
    ],
)
def test_api_errors_by_status(status, kind):
    error = wrap_api_error(_api(status, "the detail"), "applying Deployment shop/production")
    assert isinstance(error, kind)
    assert "applying Deployment shop/production" in str(error) and "the detail" in str(error)


def test_connection_failures_are_temporary():
    assert isinstance(
        wrap_api_error(ConnectionRefusedError("refused"), "listing pods"), ClusterTemporaryError
    )


def test_missing_kubeconfig_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ClusterError, match=f"reaching kubeconfig {missing}"):
        api_client(ClusterAccess(kubeconfig=str(missing)))
