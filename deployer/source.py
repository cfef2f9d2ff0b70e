"""Bring a repository's files onto disk: from a tarball (streamed, capped, safely extracted) or
from a local folder or git repository (the CLI)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

from deployer.archive_plan import ArchiveError
from deployer.extract import extract_archive

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".autostack", ".next"}


class SourceError(ValueError):
    """The source could not be fetched or is unsafe; the message says which file and why."""


class TarballWriter(Protocol):
    """Writes the repository tarball at the deployment's commit to `dest` (the bot's download)."""

    async def __call__(self, dest: Path) -> None:
        """Write the tarball bytes to `dest`."""
        ...


def extract_tarball(
    archive: Path, dest: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, label: str = "upload"
) -> None:
    """Extract a .tar(.gz) into the empty `dest`; refuse (writing nothing) anything that would leave it.

    `label` starts every refusal ("upload refused: member 'x' ..."), so the reader knows the source.
    """
    if archive.stat().st_size > max_bytes:
        raise SourceError(f"source tarball is {archive.stat().st_size} bytes; the limit is {max_bytes}")
    try:
        extract_archive(archive, dest, max_bytes=max_bytes, label=label)
    except ArchiveError as exc:
        raise SourceError(str(exc)) from None


async def fetch_tarball(writer: TarballWriter, dest: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Have `writer` download the tarball next to `dest`, then extract it safely into `dest`."""
    archive = dest.with_name(dest.name + ".tar.gz")
    try:
        await writer(archive)
        await asyncio.to_thread(dest.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(extract_tarball, archive, dest, max_bytes=max_bytes, label="source tarball")
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
            extract_tarball(archive, dest, label="git archive")
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
