"""Tarball extraction refuses anything that would write or point outside the source folder."""

from __future__ import annotations

import io
import tarfile

import pytest

from deployer.source import SourceError, extract_tarball, fetch_tarball


def _tarball(path, entries):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {
                "dir": tarfile.DIRTYPE,
                "sym": tarfile.SYMTYPE,
                "hard": tarfile.LNKTYPE,
                "chr": tarfile.CHRTYPE,
                "fifo": tarfile.FIFOTYPE,
            }[kind]
            info.linkname = payload
            tar.addfile(info)
    return path


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([("../evil.txt", "file", "x")], "refusing tarball entry '../evil.txt': its path leaves"),
        ([("/etc/evil", "file", "x")], "refusing tarball entry '/etc/evil': its path leaves"),
        ([("repo/a/../../../x", "file", "x")], "its path leaves the source folder"),
        ([("link", "sym", "../../etc/passwd")], "it links to '../../etc/passwd', outside"),
        ([("link", "sym", "/etc/passwd")], "it links to '/etc/passwd', outside"),
        ([("sub/link", "sym", "../..")], "it links to '../..', outside"),
        ([("hard", "hard", "../outside")], "it links to '../outside', outside"),
        ([("dev", "chr", "")], "devices, fifos and other special files are not allowed"),
        ([("pipe", "fifo", "")], "devices, fifos and other special files are not allowed"),
    ],
    ids=[
        "dotdot",
        "absolute",
        "nested-dotdot",
        "symlink-up",
        "symlink-absolute",
        "symlink-dir-up",
        "hardlink-out",
        "device",
        "fifo",
    ],
)
def test_unsafe_entries_are_refused(tmp_path, entries, message):
    archive = _tarball(tmp_path / "src.tar.gz", entries)
    dest = tmp_path / "out"
    dest.mkdir()

    with pytest.raises(SourceError) as error:
        extract_tarball(archive, dest)

    assert message in str(error.value)
    assert not (tmp_path / "evil.txt").exists()


def test_github_tarball_is_unwrapped_with_safe_links(tmp_path):
    archive = _tarball(
        tmp_path / "src.tar.gz",
        [
            ("acme-shop-3f2a9c1/", "dir", ""),
            ("acme-shop-3f2a9c1/index.html", "file", "<h1>hi</h1>"),
            ("acme-shop-3f2a9c1/docs/readme", "sym", "../index.html"),
        ],
    )
    dest = tmp_path / "out"
    dest.mkdir()

    extract_tarball(archive, dest)

    assert (dest / "index.html").read_text() == "<h1>hi</h1>"
    assert (dest / "docs" / "readme").read_text() == "<h1>hi</h1>"


def test_size_cap(tmp_path):
    archive = _tarball(tmp_path / "src.tar.gz", [("big", "file", "x" * 5000)])

    with pytest.raises(SourceError, match="source expands past 1000 bytes"):
        extract_tarball(archive, tmp_path, max_bytes=1000)


async def test_fetch_uses_the_writer_and_removes_the_download(tmp_path):
    made = _tarball(tmp_path / "made.tar.gz", [("r/app.py", "file", "print()")])

    async def writer(dest):
        dest.write_bytes(made.read_bytes())

    await fetch_tarball(writer, tmp_path / "src")

    assert (tmp_path / "src" / "app.py").read_text() == "print()"
    assert not (tmp_path / "src.tar.gz").exists()
