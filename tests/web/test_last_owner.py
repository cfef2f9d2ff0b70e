"""The last owner of a team can be neither demoted nor removed, and the page says why, through
the page `serve` runs, on both backends."""

from __future__ import annotations

from sqlalchemy import select

from store.models import Member
from tests.wired import Served

CSRF = "test-csrf"


async def _owner_id(served: Served) -> int:
    async with served.sessions() as session:
        return await session.scalar(select(Member.id).where(Member.role == "owner"))


async def test_the_last_owner_stays(served: Served):
    owner = served.as_role("owner")
    owner_id = await _owner_id(served)
    page = (await owner.get("/team")).text
    row = page.split("<td>owner-user</td>")[1].split("</tr>")[0]
    assert 'name="role"' not in row and "the last owner: make someone else owner" in row

    demoted = await owner.post("/team/role", data={"csrf": CSRF, "member": str(owner_id), "role": "admin"})
    assert demoted.status_code == 409
    assert "owner-user is the last owner; make someone else owner first" in demoted.text
    removed = await owner.post("/team/remove", data={"csrf": CSRF, "member": str(owner_id)})
    assert removed.status_code == 409 and "is the last owner" in removed.text
    async with served.sessions() as session:
        assert (await session.get(Member, owner_id)).role == "owner"


async def test_with_two_owners_one_may_step_down(served: Served):
    owner = served.as_role("owner")
    async with served.sessions() as session:
        admin_id = await session.scalar(select(Member.id).where(Member.role == "admin"))
    promoted = await owner.post("/team/role", data={"csrf": CSRF, "member": str(admin_id), "role": "owner"})
    assert promoted.status_code == 303
    page = (await owner.get("/team")).text
    assert "the last owner" not in page
    async with served.sessions() as session:
        owner_id = await session.scalar(select(Member.id).where(Member.github_login == "owner-user"))
    stepped = await owner.post("/team/role", data={"csrf": CSRF, "member": str(owner_id), "role": "admin"})
    assert stepped.status_code == 303
