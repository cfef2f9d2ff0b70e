"""Env vars from the page: secrets write-only, ciphertext only at rest, rotation, redeploy flag."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot.web.envvars import DotenvError, parse_dotenv
from deployer.envvars import set_env_var
from store.encryption import DecryptionError, KeyRing, env_var_context
from store.envvars import affected_kinds
from store.models import Environment, EnvVar
from store.rotation import rotate_keys

CSRF = "test-csrf"
SECRET_VALUE = "sk_live_do_not_show_me_42"


@pytest.mark.parametrize(
    ("text_in", "pairs"),
    [
        ("A=1\nB=2", [("A", "1"), ("B", "2")]),
        ("# comment\n\nexport A=1", [("A", "1")]),
        ("A=\"quoted value\"\nB='x'", [("A", "quoted value"), ("B", "x")]),
        ("A=with=equals", [("A", "with=equals")]),
        ("A=", [("A", "")]),
    ],
)
def test_parse_dotenv(text_in, pairs):
    assert parse_dotenv(text_in) == pairs


def test_parse_dotenv_error_names_the_line_not_its_content():
    with pytest.raises(DotenvError) as error:
        parse_dotenv("A=1\nsupersecretvalue")
    assert "line 2" in str(error.value) and "supersecret" not in str(error.value)


@pytest.mark.parametrize(
    ("scope", "kinds"),
    [
        ("all", ("production", "preview", "branch")),
        ("production", ("production",)),
        ("preview", ("preview",)),
    ],
)
def test_affected_kinds(scope, kinds):
    assert affected_kinds(scope) == kinds


async def test_secret_is_write_only_and_ciphertext_only_in_db(as_role, seeded, web):
    owner = as_role("owner")
    form = {"csrf": CSRF, "key": "STRIPE_KEY", "value": SECRET_VALUE, "scope": "production", "secret": "on"}
    assert (await owner.post("/projects/shop/env/set", data=form)).status_code == 303
    page = await owner.get("/projects/shop/env")
    assert (
        "STRIPE_KEY" in page.text
        and SECRET_VALUE not in page.text
        and "write-only: type a new value" in page.text
    )
    async with web.sessions() as session:
        raw = (await session.execute(text("SELECT ciphertext FROM env_vars"))).scalar_one()
        audits = (await session.execute(text("SELECT details, target FROM audit_events"))).all()
        production = await session.get(Environment, seeded.production_id)
        preview = await session.get(Environment, seeded.preview_id)
    assert SECRET_VALUE.encode() not in raw
    assert all(SECRET_VALUE not in str(row) for row in audits)
    assert production.redeploy_needed and not preview.redeploy_needed
    assert "Redeploy production" in page.text


async def test_plain_value_shown_and_bulk_paste(as_role, seeded, web):
    owner = as_role("owner")
    form = {"csrf": CSRF, "bulk": "LOG_LEVEL=debug\nexport REGION='eu'", "scope": "all"}
    assert (await owner.post("/projects/shop/env/set", data=form)).status_code == 303
    page = (await owner.get("/projects/shop/env")).text
    assert "debug" in page and "REGION" in page
    deleted = await owner.post(
        "/projects/shop/env/delete", data={"csrf": CSRF, "key": "REGION", "scope": "all"}
    )
    assert deleted.status_code == 303
    assert "REGION" not in (await owner.get("/projects/shop/env")).text


async def test_bad_name_is_explained(as_role, seeded):
    response = await as_role("owner").post(
        "/projects/shop/env/set", data={"csrf": CSRF, "key": "1BAD", "value": "x"}
    )
    assert response.status_code == 400 and "not allowed" in response.text


async def test_rotation_reencrypts_and_old_key_can_be_retired(sessions, seeded):
    old = KeyRing(("old-key",))
    await set_env_var(sessions, old, seeded.project_id, "TOKEN", "v1", secret=True)
    both = KeyRing(("new-key", "old-key"))
    first = await rotate_keys(sessions, both)
    assert (first.rotated, first.current) == (1, 0)
    assert (await rotate_keys(sessions, both)).rotated == 0
    new_only = KeyRing(("new-key",))
    async with sessions() as session:
        row = (await session.scalars(select(EnvVar))).one()
    context = env_var_context(seeded.project_id, "TOKEN", "all")
    assert new_only.decrypt(row.key_id, row.ciphertext, context) == "v1"
    with pytest.raises(DecryptionError):
        old.decrypt(row.key_id, row.ciphertext, context)
