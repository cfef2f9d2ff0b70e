"""Editing variables in place, and refused pastes that keep the text and say which line broke
which rule, through the page `serve` runs, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.web.envvars import DotenvError, parse_dotenv
from deployer.envvars import name_problem
from store.models import EnvVar
from tests.wired import Served

CSRF = "test-csrf"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("DATABASE_URL", None),
        ("_private", None),
        ("1FOO", "names start with a letter or _"),
        ("MY-VAR", "names use only letters, digits and _"),
        ("", "a name is needed"),
        ("A" * 256, "names are at most 255 characters"),
    ],
)
def test_name_problem(name: str, problem: str | None):
    assert name_problem(name) == problem


def test_paste_error_names_line_and_rule():
    with pytest.raises(DotenvError) as raised:
        parse_dotenv("A=1\n# note\n1FOO=bar")
    assert str(raised.value) == 'line 3: "1FOO" — names start with a letter or _'


async def _count(served: Served) -> int:
    async with served.sessions() as session:
        return await session.scalar(select(func.count()).select_from(EnvVar))


async def test_rejected_paste_keeps_the_text(served: Served):
    owner = served.as_role("owner")
    pasted = "GOOD=1\nALSO_GOOD=2\n1FOO=bar"
    response = await owner.post(
        "/projects/shop/env/set", data={"csrf": CSRF, "bulk": pasted, "scope": "preview", "form": "bulk"}
    )
    assert response.status_code == 400
    assert "line 3: &#34;1FOO&#34; — names start with a letter or _" in response.text
    assert f'autocomplete="off">{pasted}</textarea>' in response.text
    assert "<option selected>preview</option>" in response.text.split('id="bulk-vars"')[1]
    assert await _count(served) == 0


async def test_secret_paste_is_not_sent_back(served: Served):
    response = await served.as_role("owner").post(
        "/projects/shop/env/set",
        data={"csrf": CSRF, "bulk": "TOKEN=hunter2-very-secret\n2X=1", "secret": "on", "form": "bulk"},
    )
    assert response.status_code == 400 and "hunter2-very-secret" not in response.text
    assert "line 2: &#34;2X&#34; — names start with a letter or _" in response.text
    assert "paste it again" in response.text


async def test_bad_name_gets_autostacks_message_not_the_browsers(served: Served):
    owner = served.as_role("owner")
    form = (await owner.get("/projects/shop/env")).text.split('id="add-var"')[1].split("</form>")[0]
    assert "pattern=" not in form
    response = await owner.post(
        "/projects/shop/env/set", data={"csrf": CSRF, "key": "MY-VAR", "value": "x", "form": "single"}
    )
    assert response.status_code == 400
    assert (
        "env var name &#39;MY-VAR&#39; is not allowed: names use only letters, digits and _" in response.text
    )
    assert 'name="key" required autocomplete="off" value="MY-VAR"' in response.text


async def test_plain_values_are_shown_and_edited_in_place(served: Served):
    owner = served.as_role("owner")
    for data in (
        {"key": "LOG_LEVEL", "value": "debug", "scope": "all"},
        {"key": "API_KEY", "value": "sk-live-secret", "scope": "all", "secret": "on"},
    ):
        assert (await owner.post("/projects/shop/env/set", data={"csrf": CSRF, **data})).status_code == 303
    page = (await owner.get("/projects/shop/env")).text
    assert 'name="value" value="debug"' in page
    assert "sk-live-secret" not in page and "write-only: type a new value" in page

    edited = await owner.post(
        "/projects/shop/env/set", data={"csrf": CSRF, "key": "LOG_LEVEL", "value": "info", "scope": "all"}
    )
    assert edited.status_code == 303
    page = (await owner.get("/projects/shop/env")).text
    assert 'name="value" value="info"' in page and 'value="debug"' not in page
    assert await _count(served) == 2
    viewer_page = (await served.as_role("viewer").get("/projects/shop/env")).text
    assert "<code>info</code>" in viewer_page and "hidden (secret)" in viewer_page
