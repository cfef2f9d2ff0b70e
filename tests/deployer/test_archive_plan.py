"""The pure planning pass: what gets written where, decided from the member list alone."""

from __future__ import annotations

import tarfile

import pytest

from deployer import archive_plan
from deployer.archive_plan import ArchiveError, plan_members


def _member(name: str, kind: str = "file", link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE}[kind]
    info.linkname = link
    return info


@pytest.mark.parametrize(
    ("members", "writes"),
    [
        ([_member("./a//b/./c"), _member("d")], [("file", "a/b/c"), ("file", "d")]),
        (
            [_member("r/", "dir"), _member("r/a"), _member("r/l", "sym", "a")],
            [("dir", ""), ("file", "a"), ("symlink", "l")],
        ),
        (
            [_member("a", "dir"), _member("a/", "dir"), _member("b")],
            [("dir", "a"), ("dir", "a"), ("file", "b")],
        ),
        ([_member("a/x"), _member("a", "dir"), _member("b")], [("file", "a/x"), ("dir", "a"), ("file", "b")]),
        ([_member("l", "sym", "x/../y/.."), _member("x", "dir")], [("symlink", "l"), ("dir", "x")]),
    ],
    ids=[
        "dot-and-empty-parts",
        "github-top-folder",
        "folder-twice",
        "folder-after-its-file",
        "climb-and-back",
    ],
)
def test_plans_of_safe_archives(members, writes):
    steps = plan_members(members, max_bytes=1000)

    assert [(s.kind, "/".join(s.path)) for s in steps if s.path] == [(k, p) for k, p in writes if p]


def test_checking_links_has_a_bounded_cost(monkeypatch):
    monkeypatch.setattr(archive_plan, "MAX_RESOLVE_STEPS", 40_000)
    chain = [_member("l0", "file")] + [_member(f"l{i}", "sym", f"l{i - 1}") for i in range(1, 40)]
    fans = [_member(f"f{i}", "sym", "l39") for i in range(5_000)]  # 40 hops each
    plan_members(chain + fans[:900], max_bytes=1000)  # 940 links, about 37,000 steps: within

    with pytest.raises(ArchiveError, match="its links take more than 40000 steps to check"):
        plan_members(chain + fans, max_bytes=1000)
