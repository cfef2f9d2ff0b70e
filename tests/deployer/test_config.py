"""autostack.yml tables: valid files → plan values; invalid ones → errors naming key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.config import ConfigError, duration_seconds, parse_config, schema_text
from deployer.detect import Detection
from deployer.plan import Plan, make_plan

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "autostack.schema.json"
FLASK = Detection(
    "flask",
    "python",
    "found flask in requirements.txt",
    "pip install -r requirements.txt",
    None,
    "flask run",
    8000,
    None,
    ("requirements.txt",),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "",
            {
                "start": "flask run",
                "port": 8000,
                "health_path": "/",
                "health_timeout": 60,
                "root": ".",
                "replicas": 1,
                "env": {},
            },
        ),
        (
            "run:\n  port: 5000\n  healthcheck: {path: /up, timeout: 5}\n",
            {"port": 5000, "health_path": "/up", "health_timeout": 5},
        ),
        (
            "build:\n  start: gunicorn app:app\n  root: apps/web\n",
            {
                "start": "gunicorn app:app",
                "root": "apps/web",
                "reason": "found flask in requirements.txt (start from autostack.yml)",
            },
        ),
        (
            "env:\n  DEBUG: false\n  WORKERS: 4\n  NAME: shop\n",
            {"env": {"DEBUG": "false", "WORKERS": "4", "NAME": "shop"}},
        ),
        (
            "build:\n  dockerfile: deploy/Dockerfile\n",
            {"runtime": "docker", "dockerfile": "deploy/Dockerfile"},
        ),
        (
            "previews: {enabled: false, ttl: 7d, drafts: true}\nbranches: [staging]\n"
            "domains: [shop.example.com]\nrun: {replicas: 2, autoscale: {min: 2, max: 5, cpu: 70}, "
            "resources: {cpu: 500m, memory: 512Mi}}\n",
            {"replicas": 2, "preview_ttl": 7 * 86400},
        ),
        (
            "release: python manage.py migrate\npreviews: {seed: python manage.py loaddata demo}\n",
            {
                "release": "python manage.py migrate",
                "release_source": "autostack.yml",
                "seed": "python manage.py loaddata demo",
            },
        ),
    ],
    ids=["empty", "run", "build", "env", "dockerfile", "everything", "release-seed"],
)
def test_valid_config_makes_plan(text, expected):
    plan = make_plan(parse_config(text), FLASK)

    assert {key: getattr(plan, key) for key in expected} == expected
    assert Plan.from_snapshot(plan.snapshot()) == plan


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "bild: {}\n",
            "unknown key 'bild'; allowed here: build, release, run, previews, deploy, branches, env, domains",
        ),
        ("release: ''\n", 'release: "" is not allowed; expected a non-empty string'),
        ("previews: {sead: x}\n", "unknown key 'previews.sead'; allowed here: enabled, ttl, drafts, seed"),
        (
            "run:\n  healthcheck: {paht: /}\n",
            "unknown key 'run.healthcheck.paht'; allowed here: path, timeout",
        ),
        ("run: {port: 0}\n", "run.port: 0 is not allowed; expected a number ≥ 1"),
        ("run: {port: '80'}\n", 'run.port: "80" is not allowed; expected a whole number'),
        ("run: {replicas: 51}\n", "run.replicas: 51 is not allowed; expected a number ≤ 50"),
        ("run: {autoscale: {min: 3, max: 2}}\n", "run.autoscale: min (3) must not exceed max (2)"),
        (
            "previews: {ttl: 3 days}\n",
            'previews.ttl: "3 days" is not allowed; expected minutes, hours or days like 30m, 72h or 3d',
        ),
        (
            "previews: {enabled: yes please}\n",
            'previews.enabled: "yes please" is not allowed; expected true or false',
        ),
        ("env: {bad-key: 1}\n", 'env.bad-key: "bad-key" is not allowed; expected text matching'),
        ("env: {A: [1]}\n", "env.A: [1] is not allowed; expected a string, number or boolean"),
        ("domains: [not a host]\n", 'domains.0: "not a host" is not allowed'),
        ("run: [1]\n", "run: [1] is not allowed; expected a mapping"),
        ("- just\n- a list\n", "the top level must be a mapping of keys, got list"),
        ("run: {port: [1\n", "autostack.yml line 2: not valid YAML"),
        (
            "deploy: {after: tests}\n",
            'deploy.after: "tests" is not allowed; expected build (live once built) or checks',
        ),
        ("previews: {after: ci}\n", 'previews.after: "ci" is not allowed; expected build (live once built)'),
        ("deploy: {after: checks, checks: test}\n", 'deploy.checks: "test" is not allowed; expected a list'),
        (
            "deploy: {after: checks, checks: ['']}\n",
            'deploy.checks.0: "" is not allowed; expected a non-empty',
        ),
        ("deploy: {wait: checks}\n", "unknown key 'deploy.wait'; allowed here: after, checks"),
        (
            "deploy: {checks: [test]}\n",
            "deploy.checks lists checks to wait for, but neither deploy.after nor previews.after is checks",
        ),
    ],
    ids=[
        "top-key",
        "release-empty",
        "seed-key",
        "nested-key",
        "port-low",
        "port-string",
        "replicas",
        "autoscale",
        "ttl",
        "bool",
        "env-key",
        "env-value",
        "domain",
        "section-type",
        "list",
        "yaml",
        "deploy-after",
        "previews-after",
        "checks-not-list",
        "checks-empty-name",
        "deploy-key",
        "checks-without-after",
    ],
)
def test_invalid_config_names_key_value_and_allowed(text, message):
    with pytest.raises(ConfigError) as error:
        parse_config(text)

    assert message in str(error.value)


@pytest.mark.parametrize("root", ["../other", "/etc"])
def test_root_outside_repository_is_refused(root):
    with pytest.raises(ConfigError, match="expected a folder inside the repository"):
        make_plan(parse_config(f"build: {{root: {root}}}\n"), FLASK)


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [(None, None), ("30m", 1800), ("72h", 259200), ("3d", 259200), ("1d", 86400)],
)
def test_duration_seconds(duration, seconds):
    assert duration_seconds(duration) == seconds


def test_published_schema_is_up_to_date():
    assert SCHEMA.read_text() == schema_text(), "run: python -m deployer.schema > docs/autostack.schema.json"


def test_wait_for_checks_keys_parse():
    config = parse_config("deploy: {after: checks, checks: [CI / test, lint]}\npreviews: {after: checks}\n")
    assert (config.deploy.after, config.deploy.checks, config.previews.after) == (
        "checks",
        ["CI / test", "lint"],
        "checks",
    )
    default = parse_config("")
    assert (default.deploy.after, default.deploy.checks, default.previews.after) == ("build", [], "build")
