"""Tarball extraction refuses anything that would write or point outside the source folder."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from deployer.source import SourceError, extract_tarball, fetch_tarball

KINDS = {
    "dir": tarfile.DIRTYPE,
    "sym": tarfile.SYMTYPE,
    "hard": tarfile.LNKTYPE,
    "chr": tarfile.CHRTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def _tarball(path: Path, entries: list[tuple[str, str, str]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = KINDS[kind]
            info.linkname = payload
            tar.addfile(info)
    return path


def snapshot(root: Path, skip: Path | None = None) -> dict[str, tuple[str, str]]:
    """Every path under `root` (but `skip`) with its kind and content or link target."""
    seen: dict[str, tuple[str, str]] = {}
    for folder, dirs, files in os.walk(root):
        if skip is not None:
            dirs[:] = [d for d in dirs if Path(folder, d) != skip]
        for name in (*dirs, *files):
            path = Path(folder, name)
            key = str(path.relative_to(root))
            if path.is_symlink():
                seen[key] = ("link", os.readlink(path))
            elif path.is_dir():
                seen[key] = ("dir", "")
            else:
                seen[key] = ("file", path.read_text(errors="replace"))
    return seen


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """sandbox/outer/data/{admin-token,secret-key,work/7/src}, like `serve`'s data folder."""
    sandbox = tmp_path / "sandbox"
    data = sandbox / "outer" / "data"
    dest = data / "work" / "7" / "src"
    dest.mkdir(parents=True)
    (data / "admin-token").write_text("token")
    (data / "secret-key").write_text("key")
    (sandbox / "victim.txt").write_text("original")
    return sandbox, dest


def _chain(depth: int, last: str) -> list[tuple[str, str, str]]:
    """d -> ., d/up -> .., d/up/u2 -> .., ... then a file `last` written through all of them."""
    entries = [("d", "sym", "."), ("d/up", "sym", "..")]
    prefix = "d/up"
    for hop in range(2, depth + 1):
        prefix = f"{prefix}/u{hop}"
        entries.append((prefix, "sym", ".."))
    entries.append((f"{prefix}/{last}", "file", "planted"))
    return entries


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        # d/up/u2/u3 is the data folder: `planted` would sit beside admin-token and secret-key
        (_chain(3, "planted"), "upload refused: member 'd/up' would be written through link 'd'"),
        # two levels above the data folder, overwriting a file there
        (_chain(5, "victim.txt"), "upload refused: member 'd/up' would be written through link 'd'"),
        (
            [("d", "sym", "."), ("up", "sym", "d/..")],
            "upload refused: link 'up' -> 'd/..' resolves outside the build folder (through link 'd')",
        ),
        (
            [("x", "sym", "b/.."), ("b", "sym", "."), ("x/planted", "file", "x")],
            "upload refused: member 'x/planted' would be written outside the build folder through link 'x'",
        ),
        # no member writes through `x`, but once `b -> .` exists `x` points at the parent folder
        (
            [("t", "sym", "x/data/secret-key"), ("x", "sym", "b/.."), ("b", "sym", ".")],
            "upload refused: link 't' -> 'x/data/secret-key' resolves outside the build folder "
            "(through links 'x', 'b')",
        ),
    ],
    ids=["chain-to-data-folder", "chain-two-levels-up", "link-via-link", "write-through", "late-escape"],
)
def test_link_chains_are_refused_and_nothing_lands_outside(layout, entries, message):
    sandbox, dest = layout
    archive = _tarball(sandbox.parent / "upload.tar.gz", entries)
    before = snapshot(sandbox)

    with pytest.raises(SourceError) as error:
        extract_tarball(archive, dest)

    assert message in str(error.value)
    assert snapshot(sandbox) == before  # the empty build folder too: nothing half-written
    assert (sandbox / "victim.txt").read_text() == "original"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("../evil.txt", "file", "x")], "member '../evil.txt': its name '../evil.txt' leaves the build"),
        ([("/etc/evil", "file", "x")], "member '/etc/evil': its name '/etc/evil' leaves the build"),
        ([("repo/a/../../../x", "file", "x")], "its name 'repo/a/../../../x' leaves the build folder"),
        ([("..\\..\\evil", "file", "x")], "'..\\\\..\\\\evil' has a backslash; folders are separated by '/'"),
        ([("link", "sym", "../../etc/passwd")], "link 'link' -> '../../etc/passwd' resolves outside"),
        ([("link", "sym", "/etc/passwd")], "link 'link' -> '/etc/passwd': the target is absolute"),
        ([("link", "sym", "..\\..")], "link 'link' -> '..\\\\..': the target has a backslash"),
        ([("sub/link", "sym", "../..")], "link 'sub/link' -> '../..' resolves outside"),
        ([("hard", "hard", "../outside")], "member 'hard': its link target '../outside' leaves the build"),
        ([("hard", "hard", "later"), ("later", "file", "x")], "hard link 'hard' names 'later'"),
        (
            [("l", "sym", "."), ("h", "hard", "l/x")],
            "hard link 'h' names 'l/x', which is not an earlier file of the archive",
        ),
        ([("dev", "chr", "")], "member 'dev' is a device, fifo or other special file"),
        ([("pipe", "fifo", "")], "member 'pipe' is a device, fifo or other special file"),
        ([("a", "file", "x"), ("a", "sym", "/etc")], "member 'a' would replace the file an earlier"),
        ([("a", "sym", "b"), ("a", "file", "x")], "member 'a' would replace the link an earlier"),
        ([("a/f", "file", "x"), ("a", "sym", "..")], "member 'a' would replace the folder an earlier"),
        ([("a", "file", "x"), ("a", "file", "y")], "member 'a' would replace the file"),
        ([("a", "file", "x"), ("a/b", "file", "y")], "member 'a/b' needs 'a' to be a folder"),
        ([("l", "sym", "l")], "resolving 'l' follows more than 40 links"),
        ([(f"l{i}", "sym", f"l{i - 1}") for i in range(1, 60)], "follows more than 40 links"),
        ([("p/" * 2100 + "x", "file", "x")], "its name is over 4096 characters"),
    ],
    ids=[
        "dotdot",
        "absolute",
        "nested-dotdot",
        "backslash-name",
        "symlink-up",
        "symlink-absolute",
        "symlink-backslash",
        "symlink-dir-up",
        "hardlink-out",
        "hardlink-forward",
        "hardlink-through-link",
        "device",
        "fifo",
        "file-then-link",
        "link-then-file",
        "dir-then-link",
        "file-twice",
        "file-as-folder",
        "self-loop",
        "long-chain",
        "long-name",
    ],
)
def test_unsafe_entries_are_refused(tmp_path, entries, message):
    archive = _tarball(tmp_path / "src.tar.gz", entries)
    dest = tmp_path / "out"
    dest.mkdir()

    with pytest.raises(SourceError) as error:
        extract_tarball(archive, dest)

    assert message in str(error.value)
    assert str(error.value).startswith("upload refused: ")
    assert sorted(os.listdir(tmp_path)) == ["out", "src.tar.gz"]
    assert os.listdir(dest) == []


def test_pax_long_names_are_checked_whole(tmp_path):
    deep = "a/" * 60 + "../" * 61 + "escaped"
    archive = _tarball(tmp_path / "src.tar", [(deep, "file", "x")], mode="w")
    (tmp_path / "out").mkdir()

    with pytest.raises(SourceError, match="leaves the build folder"):
        extract_tarball(archive, tmp_path / "out")

    assert not (tmp_path / "escaped").exists()


def test_gnu_long_link_targets_are_resolved(tmp_path):
    target = "a/" * 80 + "../" * 81 + "outside"
    path = tmp_path / "src.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("link")
        info.type, info.linkname = tarfile.SYMTYPE, target
        tar.addfile(info)
    (tmp_path / "out").mkdir()

    with pytest.raises(SourceError, match=r"link 'link' -> .* resolves outside the build folder"):
        extract_tarball(path, tmp_path / "out")


def test_safe_links_inside_are_kept(tmp_path):
    archive = _tarball(
        tmp_path / "src.tar.gz",
        [
            ("app/index.html", "file", "<h1>hi</h1>"),
            ("app/bin/run", "file", "#!/bin/sh"),
            ("current", "sym", "app"),
            ("home", "sym", "current/index.html"),
            ("app/up", "sym", ".."),
            ("copy", "hard", "app/index.html"),
            ("app/", "dir", ""),
            ("dangling", "sym", "build/out.js"),
        ],
    )
    dest = tmp_path / "out"

    extract_tarball(archive, dest)

    assert (dest / "home").read_text() == "<h1>hi</h1>"
    assert (dest / "app" / "up" / "copy").read_text() == "<h1>hi</h1>"
    assert os.stat(dest / "copy").st_ino == os.stat(dest / "app" / "index.html").st_ino
    assert os.readlink(dest / "dangling") == "build/out.js"
    assert sorted(os.listdir(tmp_path)) == ["out", "src.tar.gz"]


def test_github_tarball_is_unwrapped_with_safe_links(tmp_path):
    archive = _tarball(
        tmp_path / "src.tar.gz",
        [
            ("acme-shop-3f2a9c1/", "dir", ""),
            ("acme-shop-3f2a9c1/index.html", "file", "<h1>hi</h1>"),
            ("acme-shop-3f2a9c1/docs/readme", "sym", "../index.html"),
            ("acme-shop-3f2a9c1/same", "hard", "acme-shop-3f2a9c1/index.html"),
        ],
    )
    dest = tmp_path / "out"
    dest.mkdir()

    extract_tarball(archive, dest)

    assert (dest / "index.html").read_text() == "<h1>hi</h1>"
    assert (dest / "docs" / "readme").read_text() == "<h1>hi</h1>"
    assert (dest / "same").read_text() == "<h1>hi</h1>"


def test_github_tarball_cannot_climb_out_of_its_top_folder(tmp_path):
    archive = _tarball(
        tmp_path / "src.tar.gz",
        [("acme-shop-3f2a9c1/", "dir", ""), ("acme-shop-3f2a9c1/up", "sym", "..")],
    )
    (tmp_path / "out").mkdir()

    with pytest.raises(
        SourceError, match=r"link 'acme-shop-3f2a9c1/up' -> '\.\.' resolves outside the build folder"
    ):
        extract_tarball(archive, tmp_path / "out")


def test_size_cap(tmp_path):
    archive = _tarball(tmp_path / "src.tar.gz", [("big", "file", "x" * 5000)])

    with pytest.raises(SourceError, match="source expands past 1000 bytes"):
        extract_tarball(archive, tmp_path, max_bytes=1000)


def test_a_truncated_tarball_leaves_nothing_behind(tmp_path):
    whole = _tarball(tmp_path / "whole.tar", [("a", "file", "x" * 3000), ("b", "file", "y")], mode="w")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[:2000])
    (tmp_path / "out").mkdir()

    with pytest.raises(SourceError, match="not a readable tarball"):
        extract_tarball(cut, tmp_path / "out")

    assert sorted(os.listdir(tmp_path)) == ["cut.tar", "out", "whole.tar"]
    assert os.listdir(tmp_path / "out") == []


async def test_fetch_uses_the_writer_and_removes_the_download(tmp_path):
    made = _tarball(tmp_path / "made.tar.gz", [("r/app.py", "file", "print()")])

    async def writer(dest):
        dest.write_bytes(made.read_bytes())

    await fetch_tarball(writer, tmp_path / "src")

    assert (tmp_path / "src" / "app.py").read_text() == "print()"
    assert not (tmp_path / "src.tar.gz").exists()


async def test_fetch_names_the_source_in_its_refusal(tmp_path):
    made = _tarball(tmp_path / "made.tar.gz", [("r/", "dir", ""), ("r/d", "sym", "."), ("r/d/x", "file", "")])

    async def writer(dest):
        dest.write_bytes(made.read_bytes())

    with pytest.raises(
        SourceError, match=r"^source tarball refused: member 'r/d/x' would be written through"
    ):
        await fetch_tarball(writer, tmp_path / "src")

    assert sorted(os.listdir(tmp_path)) == ["made.tar.gz", "src"]
