"""A deployment that cannot go live fails with its reason, and the previous version keeps serving."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _static(app_copy, config: str | None = None, name: str = "static"):
    folder = app_copy("static", name)
    if config is not None:
        (folder / "autostack.yml").write_text(config)
    return folder


@pytest.mark.parametrize(
    ("config", "files", "reason"),
    [
        (
            "build:\n  build: echo compiling; exit 3\n",
            {},
            "build failed: `echo compiling; exit 3` exited 3",
        ),
        (
            "build:\n  build: sh fail.sh\n",
            {
                "fail.sh": 'echo compiling\necho "$PWD/main.go:5:2: undefined: foo"\n'
                'echo "$PWD/main.go:9:1: undefined: bar"\nexit 2\n'
            },
            "build failed: main.go:5:2: undefined: foo",
        ),
        (
            "run:\n  healthcheck: {path: /missing, timeout: 2}\n",
            {},
            "did not pass its health check within 2 s (GET /missing answered 404)",
        ),
        ("build:\n  start: exit 1\n", {}, "the app exited before becoming healthy"),
        (
            "run:\n  prot: 8080\n",
            {},
            "config failed: autostack.yml: unknown key 'run.prot'; "
            "allowed here: port, healthcheck, replicas, autoscale, resources",
        ),
        ("run:\n  port: 99999\n", {}, "run.port: 99999 is not allowed; expected a number ≤ 65535"),
        ("build:\n  root: ../..\n", {}, "build.root: '../..' is not allowed"),
        (None, {"Dockerfile": "FROM scratch\n"}, "needs the kubernetes target"),
        (None, {"index.html": None, "README.md": "hi"}, "looked for Dockerfile, package.json"),
    ],
    ids=[
        "build-fails",
        "build-error-line",
        "never-healthy",
        "crashes",
        "unknown-key",
        "bad-value",
        "root-outside",
        "dockerfile",
        "unknown-layout",
    ],
)
async def test_failed_deployment_keeps_previous_version(deployer, sink, app_copy, config, files, reason):
    good = await deployer.deploy(_static(app_copy, name="good"))
    assert good.state == "ready"
    bad_folder = _static(app_copy, config, name="bad")
    for name, text in files.items():
        if text is None:
            (bad_folder / name).unlink()
        else:
            (bad_folder / name).write_text(text)

    bad = await deployer.deploy(bad_folder)

    assert bad.state == "failed"
    assert reason in bad.reason
    assert bad.reason.count(" failed: ") == 1 and "/tmp" not in bad.reason
    assert sink.finished(bad.id).outcome == "failure"
    assert sink.finished(bad.id).reason == bad.reason
    assert bad.reason not in sink.log(bad.id)  # said once: in the summary, not again in the log
    page = await deployer.get()
    assert page.status_code == 200 and "Hello from a static site" in page.text
    async with deployer.sessions() as session:
        from store.models import Environment

        env = await session.get(Environment, bad.environment_id)
        assert env.current_deployment_id == good.id and env.locked_by_deployment_id is None


async def test_secret_env_values_are_masked_in_the_log(deployer, app_copy):
    from deployer.pipeline import AppEnv

    async def env_for(_project, _env):
        return AppEnv({"API_TOKEN": "s3cr3t-value-42"}, ("s3cr3t-value-42",))

    deployer.env_for = env_for
    folder = _static(app_copy, "build:\n  start: echo token=$API_TOKEN; exit 1\n")
    row = await deployer.deploy(folder)

    assert row.state == "failed"
    assert "token=•••" in row.reason
    assert "s3cr3t-value-42" not in row.reason + deployer.sink.log(row.id)
