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


def cache_key(app_dir: Path, plan: Plan) -> str:
    """Hash of the runtime, install command and lockfile contents."""
    digest = hashlib.sha256()
    digest.update(f"{plan.runtime}\0{plan.install}\0{sys.version}\0".encode())
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
