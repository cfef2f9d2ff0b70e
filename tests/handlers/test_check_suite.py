"""Which deployments "Re-run all checks" re-runs: the newest per environment."""

from __future__ import annotations

import pytest

from handlers.check_suite import latest_per_environment
from store.models import Deployment


@pytest.mark.parametrize(
    ("deployments", "rerun"),
    [
        ([], []),
        ([(1, "production")], [1]),
        ([(1, "production"), (2, "production")], [2]),
        ([(3, "pr-2"), (1, "production"), (2, "pr-2")], [1, 3]),
        ([(1, "production"), (2, "pr-2"), (4, "production")], [2, 4]),
    ],
)
def test_latest_per_environment(deployments, rerun):
    rows = [Deployment(id=number, environment=environment) for number, environment in deployments]
    assert sorted(d.id for d in latest_per_environment(rows)) == rerun
