"""Bring a repository's files onto disk: from a tarball (streamed, capped, safely extracted) or
from a local folder or git repository (the CLI)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tarfile
from pathlib import Path, PurePosixPath
from typing import Protocol

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".autostack", ".next"}


class SourceError(ValueError):
    """The source could not be fetched or is unsafe; the message says which file and why."""


class TarballWriter(Protocol):
    """Writes the repository tarball at the deployment's commit to `dest` (the bot's download)."""

    async def __call__(self, dest: Path) -> None:
        """Write the tarball bytes to `dest`."""
        ...


def _member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise SourceError(f"refusing tarball entry {name!r}: its path leaves the source folder")
    return path


def _strip_top(members: list[tarfile.TarInfo]) -> bool:
    """GitHub tarballs wrap everything in one `<owner>-<repo>-<sha>/` folder."""
    parts = [PurePosixPath(m.name).parts for m in members if m.type != tarfile.XGLTYPE]
    tops = {p[0] for p in parts if p}
    nested = [p for p in parts if len(p) > 1]
    return (
        len(tops) == 1
        and bool(nested)
        and all(len(p) > 1 or m.isdir() for p, m in zip(parts, members, strict=False))
    )


def extract_tarball(archive: Path, dest: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Extract a .tar(.gz) into `dest`, refusing escaping paths, outside links and devices."""
    if archive.stat().st_size > max_bytes:
        raise SourceError(f"source tarball is {archive.stat().st_size} bytes; the limit is {max_bytes}")
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            strip = _strip_top(members)
            total = 0
            for member in members:
                path = _member_path(member.name)
                if strip:
                    path = PurePosixPath(*path.parts[1:])
                if not path.parts or member.isdir():
                    if path.parts:
                        (dest / path).mkdir(parents=True, exist_ok=True)
                    continue
                target = dest / path
                if member.issym() or member.islnk():
                    _check_link(member, path, strip)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if member.issym():
                        target.symlink_to(member.linkname)
                    else:
                        link = PurePosixPath(member.linkname)
                        target.hardlink_to(dest / PurePosixPath(*link.parts[int(strip) :]))
                    continue
                if not member.isfile():
                    raise SourceError(
                        f"refusing tarball entry {member.name!r}: devices, fifos "
                        "and other special files are not allowed"
                    )
                total += member.size
                if total > max_bytes:
                    raise SourceError(f"source expands past {max_bytes} bytes; the limit is {max_bytes}")
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = tar.extractfile(member)
                assert handle is not None
                with handle, open(target, "wb") as out:
                    shutil.copyfileobj(handle, out)
                target.chmod(0o755 if member.mode & 0o111 else 0o644)
    except tarfile.TarError as exc:
        raise SourceError(f"source is not a readable tarball: {exc}") from None


def _check_link(member: tarfile.TarInfo, path: PurePosixPath, strip: bool) -> None:
    link = PurePosixPath(member.linkname)
    if member.issym():
        resolved = PurePosixPath(*path.parts[:-1], *link.parts)
    else:
        resolved = PurePosixPath(*link.parts[int(strip) :])
    depth = 0
    for part in resolved.parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            break
    if link.is_absolute() or depth < 0:
        raise SourceError(
            f"refusing tarball entry {member.name!r}: it links to "
            f"{member.linkname!r}, outside the source folder"
        )


async def fetch_tarball(writer: TarballWriter, dest: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Have `writer` download the tarball next to `dest`, then extract it safely into `dest`."""
    archive = dest.with_name(dest.name + ".tar.gz")
    try:
        await writer(archive)
        await asyncio.to_thread(dest.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(extract_tarball, archive, dest, max_bytes=max_bytes)
    finally:
        archive.unlink(missing_ok=True)


def copy_folder(folder: Path, dest: Path, *, commit: str | None = None) -> None:
    """Copy a local folder (or a git repository at `commit`) without VCS or dependency dirs."""
    if commit and (folder / ".git").exists():
        archive = dest.with_name(dest.name + ".tar")
        result = subprocess.run(
            ["git", "-C", str(folder), "archive", "--format=tar", "-o", str(archive), commit],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SourceError(f"git archive {commit} in {folder} failed: {result.stderr.strip()}")
        dest.mkdir(parents=True, exist_ok=True)
        try:
            extract_tarball(archive, dest)
        finally:
            archive.unlink(missing_ok=True)
        return
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder")
    shutil.copytree(
        folder,
        dest,
        symlinks=True,
        dirs_exist_ok=True,
        ignore=lambda _dir, names: [n for n in names if n in _SKIP_DIRS],
    )
