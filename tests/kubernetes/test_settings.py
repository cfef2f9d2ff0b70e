"""AUTOSTACK_TARGET=kubernetes settings: what they need, and the options serve builds from them."""

from __future__ import annotations

import pytest

from bot.deploy_wiring import kubernetes_options
from bot.settings import Settings, SettingsError

BASE = {
    "AUTOSTACK_TARGET": "kubernetes",
    "AWS_REGION": "eu-west-1",
    "SOURCES_BUCKET": "autostack-sources",
    "EKS_CLUSTER": "prod",
    "APPS_DOMAIN": "apps.example.com",
    "PREVIEW_DOMAIN": "preview.example.com",
}


def _settings(tmp_path, **changes):
    env = {**BASE, "AUTOSTACK_DATA_DIR": str(tmp_path), **changes}
    return Settings.from_env({k: v for k, v in env.items() if v is not None}, dotenv=tmp_path / "none")


def test_eks_settings_become_target_options(tmp_path):
    options = kubernetes_options(
        _settings(tmp_path, INGRESS_ANNOTATIONS="a.io/x=1, b.io/y=two", ECR_KEEP_IMAGES="5")
    )
    assert options.access.eks_cluster == "prod" and options.access.region == "eu-west-1"
    assert options.style.ingress_annotations == (("a.io/x", "1"), ("b.io/y", "two"))
    assert (options.style.ingress_class, options.style.cluster_issuer) == ("nginx", "letsencrypt")
    assert (options.sources_bucket, options.ecr_keep) == ("autostack-sources", 5)


def test_builder_role_and_its_session_length_reach_the_target_options(tmp_path):
    role = "arn:aws:iam::123456789012:role/autostack-builder"
    options = kubernetes_options(_settings(tmp_path, BUILD_ROLE_ARN=role, BUILD_CREDENTIAL_SECONDS="900"))
    assert (options.builder_role, options.build_credential_seconds) == (role, 900)
    unset = kubernetes_options(_settings(tmp_path))
    assert (unset.builder_role, unset.build_credential_seconds) == (None, 2700)


def test_local_target_reads_no_cluster_settings(tmp_path):
    assert _settings(tmp_path, AUTOSTACK_TARGET="local", AWS_REGION=None).cluster is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AWS_REGION": None}, "AUTOSTACK_TARGET=kubernetes needs AWS_REGION"),
        ({"SOURCES_BUCKET": None}, "needs SOURCES_BUCKET"),
        ({"KUBE_IN_CLUSTER": "1"}, "KUBE_IN_CLUSTER and EKS_CLUSTER are both set"),
        ({"INGRESS_ANNOTATIONS": "novalue"}, "INGRESS_ANNOTATIONS: 'novalue' is not key=value"),
        ({"ECR_KEEP_IMAGES": "0"}, "ECR_KEEP_IMAGES=0 is out of range"),
        (
            {"BUILD_ROLE_ARN": "autostack-builder"},
            "BUILD_ROLE_ARN='autostack-builder' is not an IAM role ARN",
        ),
        (
            {"BUILD_ROLE_ARN": "arn:aws:iam::123456789012:user/ci"},
            "BUILD_ROLE_ARN='arn:aws:iam::123456789012:user/ci' is not an IAM role ARN",
        ),
        (
            {"BUILD_CREDENTIAL_SECONDS": "3601"},
            r"BUILD_CREDENTIAL_SECONDS=3601 is out of range; use 900\.\.3600",
        ),
        ({"BUILD_CREDENTIAL_SECONDS": "600"}, "BUILD_CREDENTIAL_SECONDS=600 is out of range"),
    ],
)
def test_bad_cluster_settings_stop_start_up(tmp_path, changes, message):
    with pytest.raises(SettingsError, match=message):
        _settings(tmp_path, **changes)


def test_domains_are_required_for_the_cluster(tmp_path):
    with pytest.raises(SettingsError, match="needs APPS_DOMAIN and PREVIEW_DOMAIN"):
        kubernetes_options(_settings(tmp_path, PREVIEW_DOMAIN=None))
