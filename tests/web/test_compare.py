"""Compare with previous: the commit range and its GitHub link, the plan keys that changed, the
names (never values) of variables changed in between, and the time apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.web.comparison import ConfigChange, compare_url, config_changes, name_changes, time_apart
from store.deployment_history import EnvChange
from store.encryption import env_var_context
from store.models import AuditEvent, Deployment, EnvVar

AT = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
SECRET = "sk_live_do_not_show_4411"
PLAN = {
    "framework": "nextjs",
    "start": "next start",
    "replicas": 1,
    "env": {"LOG_LEVEL": "info", "REGION": "eu"},
    "lockfiles": ["package.json", "package-lock.json"],
    "release": None,
}


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({}, {}, []),
        (PLAN, PLAN, []),
        ({"replicas": 1}, {"replicas": 3}, [ConfigChange("replicas", "1", "3")]),
        ({"release": None}, {"release": "migrate"}, [ConfigChange("release", "—", "migrate")]),
        ({}, {"build_cache": [".next/cache"]}, [ConfigChange("build_cache", None, ".next/cache")]),
        ({"lockfiles": ["a", "b"]}, {"lockfiles": ["a"]}, [ConfigChange("lockfiles", "a, b", "a")]),
        ({"autoscale": {"min": 1}}, {"autoscale": {"min": 2}}, [ConfigChange("autoscale.min", "1", "2")]),
        ({"dockerfile": "Dockerfile"}, {}, [ConfigChange("dockerfile", "Dockerfile", None)]),
        # autostack.yml env values: which key changed, not to what
        (
            {"env": {"A": "1", "B": "x"}},
            {"env": {"A": "2", "C": "y"}},
            [
                ConfigChange("env.A", "…", "…", True),
                ConfigChange("env.C", None, "…", True),
                ConfigChange("env.B", "…", None, True),
            ],
        ),
    ],
)
def test_config_changes(before, after, expected):
    assert config_changes(before, after) == expected


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (12, "12 s"), (250, "4 min 10 s"), (3600, "1 h"), (7500, "2 h 5 min"), (277200, "3 d 5 h")],
)
def test_time_apart(seconds, shown):
    assert time_apart(timedelta(seconds=seconds)) == shown


@pytest.mark.parametrize(
    ("full_name", "before", "after", "url"),
    [
        ("o/r", "a1", "b2", "https://github.com/o/r/compare/a1...b2"),
        ("o/r", "a1", "a1", None),
        (None, "a1", "b2", None),
        ("o/r", None, "b2", None),
    ],
)
def test_compare_url(full_name, before, after, url):
    assert compare_url(full_name, before, after) == url


def test_name_changes_keep_each_names_last_change():
    changes = [
        EnvChange("env.set", ("A", "B"), "all", "ann", AT),
        EnvChange("env.delete", ("A",), "all", "bob", AT),
        EnvChange("env.set", ("A",), "production", "cy", AT),
    ]
    shown = [(c.name, c.change, c.scope, c.actor) for c in name_changes(changes)]
    assert shown == [
        ("A", "removed", "all", "bob"),
        ("A", "set", "production", "cy"),
        ("B", "set", "all", "ann"),
    ]


async def _deployment(web, seeded, env_id: int, env: str, created: datetime, **fields) -> int:
    async with web.sessions.begin() as session:
        row = Deployment(
            project_id=seeded.project_id,
            environment_id=env_id,
            environment=env,
            trigger="push",
            created_at=created,
            **fields,
        )
        session.add(row)
        await session.flush()
        return row.id


async def _history(web, seeded) -> tuple[int, int]:
    """Production live at commit c1, then variables changed, then c2 failed with a new plan."""
    before = await _deployment(
        web,
        seeded,
        seeded.production_id,
        "production",
        AT,
        state="ready",
        ready_at=AT + timedelta(seconds=40),
        commit_sha="c1" + "0" * 38,
        config=PLAN,
        build_seconds=31.0,
    )
    async with web.sessions.begin() as session:
        key_id, blob = web.keyring.encrypt(
            SECRET, env_var_context(seeded.project_id, "STRIPE_KEY", "production")
        )
        session.add(
            EnvVar(
                project_id=seeded.project_id,
                key="STRIPE_KEY",
                scope="production",
                secret=True,
                key_id=key_id,
                ciphertext=blob,
            )
        )
        for action, target, scope, minutes in (
            ("env.set", "STRIPE_KEY, FEATURE_X", "production", 5),
            ("env.delete", "OLD_FLAG", "all", 6),
            ("env.set", "PREVIEW_ONLY", "preview", 7),  # not production's: left out
            ("env.set", "LATER", "all", 130),  # after the failed deployment: left out
        ):
            session.add(
                AuditEvent(
                    team_id=seeded.team_id,
                    project_id=seeded.project_id,
                    actor="ann",
                    action=action,
                    target=target,
                    details={"scope": scope, "secret": True},
                    created_at=AT + timedelta(minutes=minutes),
                )
            )
    changed = {
        **PLAN,
        "start": "node server.js",
        "replicas": 2,
        "env": {"LOG_LEVEL": "debug", "REGION": "eu"},
    }
    after = await _deployment(
        web,
        seeded,
        seeded.production_id,
        "production",
        AT + timedelta(hours=2, minutes=5),
        state="failed",
        commit_sha="c2" + "0" * 38,
        config=changed,
        build_seconds=45.5,
    )
    return before, after


async def test_compare_with_the_previous_live_deployment(as_role, web, seeded):
    before, after = await _history(web, seeded)
    deployment = (await as_role("viewer").get(f"/deployments/{after}")).text
    assert (
        f'<a href="/deployments/{after}/compare" id="compare-link">Compare with previous (#{before})</a>'
        in deployment
    )

    answer = await as_role("viewer").get(f"/deployments/{after}/compare")

    assert answer.status_code == 200
    page = answer.text
    link = f"https://github.com/octo-org/shop/compare/c1{'0' * 38}...c2{'0' * 38}"
    assert f'<a href="{link}" id="compare-commits">' in page
    assert '<dd id="apart">2 h 5 min</dd>' in page
    assert '<dd id="build-time">31.0 s → 45.5 s</dd>' in page
    plan = page.split('<table class="list compare" id="plan">')[1].split("</table>")[0]
    assert [r.split('"')[0] for r in plan.split('<tr data-key="')[1:]] == [
        "start",
        "replicas",
        "env.LOG_LEVEL",
    ]
    assert "<code>next start</code></td><td><code>node server.js</code>" in plan
    assert "changed (autostack.yml env; values not shown)" in plan and "debug" not in page
    variables = page.split('<table class="list compare" id="variables">')[1].split("</table>")[0]
    names = [cell.split("</code>")[0] for cell in variables.split('<td class="key"><code>')[1:]]
    assert names == ["FEATURE_X", "OLD_FLAG", "STRIPE_KEY"]
    assert "<td>removed</td><td>all</td>" in variables
    assert SECRET not in page and "PREVIEW_ONLY" not in page and "LATER" not in page


async def test_compare_with_a_chosen_deployment_and_bad_choices(as_role, web, seeded):
    _, after = await _history(web, seeded)
    client = as_role("viewer")
    chosen = (await client.get(f"/deployments/{after}/compare?with={seeded.deployment_id}")).text
    assert f'<a href="/deployments/{seeded.deployment_id}">#{seeded.deployment_id}</a>' in chosen
    assert "Same commit" not in chosen
    bad = await client.get(f"/deployments/{after}/compare?with=abc")
    assert bad.status_code == 404 and "?with=abc is not a deployment number" in bad.text
    missing = await client.get(f"/deployments/{after}/compare?with=999999")
    assert missing.status_code == 404 and "no deployment 999999 of this project in your team" in missing.text


async def test_compare_without_an_earlier_live_deployment_says_so(as_role, web, seeded):
    answer = await as_role("viewer").get(f"/deployments/{seeded.preview_deployment_id}/compare")
    assert answer.status_code == 200
    assert "No earlier deployment of pr-1 went live" in answer.text
    page = (await as_role("viewer").get(f"/deployments/{seeded.preview_deployment_id}")).text
    assert "compare-link" not in page


async def test_compare_of_a_deployment_that_stopped_before_its_plan(as_role, web, seeded):
    failed = await _deployment(
        web,
        seeded,
        seeded.production_id,
        "production",
        AT + timedelta(days=1),
        state="failed",
        commit_sha="d" * 40,
    )
    page = (await as_role("viewer").get(f"/deployments/{failed}/compare")).text
    assert f"is not recorded for #{seeded.deployment_id} and #{failed}: a deployment that stops" in page
