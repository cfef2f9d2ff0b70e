"""Dependency caches keyed by lockfile hash: an unchanged lockfile skips the install."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
from pathlib import Path

from deployer.plan import Plan

_locks: dict[str, asyncio.Lock] = {}


def cache_key(app_dir: Path, plan: Plan, toolchain: str = sys.version) -> str:
    """Hash of the runtime and its version, the install command and the lockfile contents."""
    digest = hashlib.sha256()
    digest.update(f"{plan.runtime}\0{plan.install}\0{toolchain}\0".encode())
    for name in plan.lockfiles:
        path = app_dir / name
        digest.update(name.encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def lock_for(key: str) -> asyncio.Lock:
    """One install per key at a time, so two builds of the same lockfile do not race."""
    return _locks.setdefault(key, asyncio.Lock())


def hardlink_tree(source: Path, dest: Path) -> None:
    """Copy a dependency tree by hard links: near-instant and safe since builds only add files."""
    shutil.copytree(source, dest, symlinks=True, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _slot(kept: Path, folder: str) -> Path:
    return kept / folder.replace("/", "__")


def kept_dir(root: Path, project: str, environment: str) -> Path:
    """Where one environment's build keeps its folders: each environment writes only its own,
    so a fork preview's build can never change what production's next build starts from."""
    return root / project / environment


def restore_folders(
    kept: Path, app: Path, folders: tuple[str, ...], seed: Path | None = None
) -> list[tuple[str, bool]]:
    """Put folders kept from this environment's last build (`.next/cache`, `target`) into `app`,
    or a copy of `seed`'s when it has none yet; (folder, from seed) for each restored."""
    restored = []
    for folder in folders:
        dest = app / folder
        if dest.exists():
            continue
        slot = _slot(kept, folder)
        if slot.is_dir():
            dest.parent.mkdir(parents=True, exist_ok=True)
            # moved, not linked: the build rewrites files in place, which would change the copy
            shutil.move(str(slot), str(dest))
            restored.append((folder, False))
        elif seed is not None and (seeded := _slot(seed, folder)).is_dir():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(seeded, dest, symlinks=True)
            restored.append((folder, True))
    return restored


def save_folders(app: Path, kept: Path, folders: tuple[str, ...]) -> None:
    """Copy the folders a build left for the next one to start from."""
    for folder in folders:
        source, slot = app / folder, _slot(kept, folder)
        if not source.is_dir():
            continue
        slot.parent.mkdir(parents=True, exist_ok=True)
        partial = slot.with_name(slot.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial, symlinks=True)
        shutil.rmtree(slot, ignore_errors=True)
        partial.rename(slot)
