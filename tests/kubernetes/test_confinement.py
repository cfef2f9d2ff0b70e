"""The `kubernetes` client stays in deployer/targets/kubernetes; inside it, boto3 only in the AWS
adapters (aws.py: EKS and S3, ecr.py: ECR and build credentials), which never import `kubernetes`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "deployer" / "targets" / "kubernetes"
AWS_ADAPTERS = ("aws.py", "ecr.py")
SOURCES = [p for top in ("bot", "handlers", "deployer", "store") for p in (ROOT / top).rglob("*.py")]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_kubernetes_client_only_in_its_package():
    offenders = [p for p in SOURCES if "kubernetes" in _imports(p) and PACKAGE not in p.parents]
    assert offenders == []


def test_boto3_only_in_the_aws_adapters_of_the_target():
    offenders = [
        p.name for p in PACKAGE.glob("*.py") if "boto3" in _imports(p) and p.name not in AWS_ADAPTERS
    ]
    assert offenders == []
    assert [name for name in AWS_ADAPTERS if "kubernetes" in _imports(PACKAGE / name)] == []
