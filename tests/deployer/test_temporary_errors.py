"""A temporary error on the deploy path (the cluster throttling, the API server restarting)
puts the deployment back in the queue instead of failing it as an internal error; after the
last try it fails naming the cause. Run through the real pipeline and the local target."""

from __future__ import annotations

from pathlib import Path

import pytest
from arq import Retry

from bot.worker import deploy_jobs
from bot.worker.retries import DEPLOY_TRIES
from deployer.pipeline import run_deployment
from deployer.targets.kubernetes.errors import ClusterTemporaryError, wrap_api_error

SITE = "<h1>temporary errors</h1>"


class FlakyBuild:
    """The local target, whose builds first meet `failures` API-server 503s."""

    def __init__(self, target, failures: int) -> None:
        self._target = target
        self.failures = failures
        self.builds = 0

    def __getattr__(self, name: str):
        return getattr(self._target, name)

    async def build(self, *args, **kwargs):
        self.builds += 1
        if self.builds <= self.failures:
            raise wrap_api_error(_Status503(), "creating the build Job")
        return await self._target.build(*args, **kwargs)


class _Status503(Exception):
    status = 503
    reason = "Service Unavailable"
    body = b'{"message": "the server is currently unable to handle the request"}'


def _site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text(SITE)
    return folder


async def test_a_temporary_error_queues_the_deployment_again_then_it_goes_live(deployer, tmp_path):
    flaky = FlakyBuild(deployer.target, failures=1)
    deployment_id = await deployer.queue(_site(tmp_path))
    first = await run_deployment(
        deployer.sessions, deployment_id, deployer.sink, flaky, work_dir=deployer.work_dir, final_try=False
    )
    row = await deployer.row(deployment_id)
    assert first == "queued"
    assert row.state == "queued"
    assert row.reason.startswith(
        "retrying: detect failed: ClusterTemporaryError: creating the build Job: Service"
    )
    assert "internal error" not in row.reason
    assert "temporary error, so the deployment starts over" in deployer.sink.log(deployment_id)

    second = await run_deployment(
        deployer.sessions, deployment_id, deployer.sink, flaky, work_dir=deployer.work_dir, final_try=False
    )
    assert second == "ready"
    assert flaky.builds == 2
    assert (await deployer.get()).text == SITE


async def test_the_last_try_fails_naming_the_cause_not_an_internal_error(deployer, tmp_path):
    flaky = FlakyBuild(deployer.target, failures=99)
    deployment_id = await deployer.queue(_site(tmp_path))
    state = await run_deployment(
        deployer.sessions, deployment_id, deployer.sink, flaky, work_dir=deployer.work_dir, final_try=True
    )
    row = await deployer.row(deployment_id)
    assert state == "failed"
    assert row.reason.startswith("detect failed: ClusterTemporaryError: creating the build Job: Service")
    assert "still failing after retries" in row.reason
    assert deployer.sink.finished(deployment_id).state == "failed"


@pytest.mark.parametrize(("job_try", "retried"), [(1, True), (DEPLOY_TRIES - 1, True), (DEPLOY_TRIES, False)])
async def test_the_deploy_job_defers_a_temporary_failure_until_its_last_try(
    deployer, tmp_path, monkeypatch, job_try, retried
):
    """The arq job maps "queued again" to a Retry with backoff, and passes the last try on."""
    finals: list[bool] = []

    async def pipeline(*args, final_try: bool, **kwargs) -> str:
        finals.append(final_try)
        return "failed" if final_try else "queued"

    monkeypatch.setattr(deploy_jobs, "run_deployment", pipeline)
    monkeypatch.setattr(deploy_jobs, "_fetcher", _no_fetcher)
    deployment_id = await deployer.queue(_site(tmp_path))
    runtime = deploy_jobs.DeployRuntime(deployer.target, deployer.work_dir, _Hub())
    ctx = {"services": _Services(deployer.sessions), "deploy": runtime, "job_try": job_try}
    if retried:
        with pytest.raises(Retry) as raised:
            await deploy_jobs.run_deployment_job(ctx, deployment_id)
        assert raised.value.defer_score == 1000 * 2**job_try
    else:
        assert await deploy_jobs.run_deployment_job(ctx, deployment_id) == "failed"
    assert finals == [not retried]


async def _no_fetcher(*_: object) -> None:
    return None


class _Hub:
    async def emit(self, event: object) -> None:
        return None


class _Services:
    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.keyring = None


def test_a_cluster_temporary_error_is_temporary_everywhere():
    from store.errors import TemporaryError, is_temporary

    error = wrap_api_error(_Status503(), "x")
    assert isinstance(error, ClusterTemporaryError)
    assert isinstance(error, TemporaryError)
    assert is_temporary(error)
