"""Extract a tarball so that nothing lands or points outside the target folder.

`deployer.archive_plan` decides first, from the member list alone; this module then writes the
plan into a fresh folder beside the target, never through a link, checks every link's realpath
on disk, and only then moves the folder into place. On any refusal the fresh folder is removed,
so nothing is half-written.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from deployer.archive_plan import MAX_MEMBERS, ArchiveError, Parts, PlannedWrite, plan_members


def extract_archive(archive: Path, dest: Path, *, max_bytes: int, label: str = "upload") -> None:
    """Extract `archive` into the empty or missing folder `dest`, or raise ArchiveError and write nothing."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = _read_members(tar, label)
            steps = plan_members(members, label=label, max_bytes=max_bytes)
            fresh = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
            try:
                _write(tar, steps, fresh, label)
                _verify(fresh, label)
                fresh.chmod(0o755)
                if dest.exists():
                    dest.rmdir()
                fresh.rename(dest)
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
    except tarfile.TarError as exc:
        raise ArchiveError(f"source is not a readable tarball: {exc}") from None


def _read_members(tar: tarfile.TarFile, label: str) -> list[tarfile.TarInfo]:
    members = []
    for member in tar:
        members.append(member)
        if len(members) > MAX_MEMBERS:
            raise ArchiveError(f"{label} refused: it has more than {MAX_MEMBERS} entries")
    return members


def _write(tar: tarfile.TarFile, steps: list[PlannedWrite], root: Path, label: str) -> None:
    for step in steps:
        path = root.joinpath(*step.path)
        try:
            _make_parents(root, step.path)
            if step.kind == "dir":
                path.mkdir(exist_ok=True)
            elif step.kind == "symlink":
                os.symlink(step.member.linkname, path)
            elif step.kind == "hardlink":
                os.link(root.joinpath(*step.source), path, follow_symlinks=False)
            else:
                mode = 0o755 if step.member.mode & 0o111 else 0o644
                handle = tar.extractfile(step.member)
                assert handle is not None
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                with handle, os.fdopen(os.open(path, flags, mode), "wb") as out:
                    shutil.copyfileobj(handle, out)
                os.chmod(path, mode)  # the umask may have narrowed it
        except OSError as exc:
            raise ArchiveError(
                f"{label} refused: member {step.member.name!r} cannot be written: {exc.strerror}"
            ) from None


def _make_parents(root: Path, parts: Parts) -> None:
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        if folder.is_symlink():  # the plan rules this out; a link here means the disk disagrees
            raise OSError(0, f"{folder.relative_to(root)} is a link")
        if not folder.is_dir():
            folder.mkdir()


def _verify(root: Path, label: str) -> None:
    """The disk's own answer: every link's realpath is inside `root` (the plan already said so)."""
    real = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            if os.path.islink(path) and os.path.commonpath([real, os.path.realpath(path)]) != real:
                raise ArchiveError(
                    f"{label} refused: link {os.path.relpath(path, root)!r} -> "
                    f"{os.readlink(path)!r} resolves outside the build folder"
                )
