"""Seeded random trees of files, folders and links: extraction never lands anything outside.

Each seed builds a random list of members (files, folders, relative and absolute symlinks, hard
links, random `..` hops, names that reuse earlier ones, so some write through earlier links),
packs it as tar and tar.gz, and extracts it into a target inside a sandbox. Either the upload is
refused and the sandbox is exactly as before, or every path under the target resolves inside it
and nothing else in the sandbox changed.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import tarfile
from pathlib import Path

import pytest

from deployer.source import SourceError, extract_tarball
from tests.deployer.test_source import snapshot

SEEDS = range(500)
NAMES = ("a", "b", "d", "up", "x", "data", "victim.txt")


def _relative(rng: random.Random, known: list[str]) -> str:
    if rng.random() < 0.3:  # the links of the `d -> .`, `d/up -> ..` chains
        return rng.choice((".", ".."))
    hops = [".", *NAMES, *known[-4:]]
    parts = [".." if rng.random() < 0.25 else rng.choice(hops) for _ in range(rng.randint(1, 3))]
    return "/".join(parts)


def random_members(rng: random.Random) -> list[tuple[str, str, str]]:
    """(name, kind, payload) entries; names grow from earlier ones so later members go through links."""
    entries: list[tuple[str, str, str]] = []
    known: list[str] = []
    folders: list[str] = []  # earlier dirs and symlinks: names under them go through links
    for _ in range(rng.randint(1, 10)):
        base = rng.choice(folders) if folders and rng.random() < 0.5 else ""
        name = "/".join(p for p in (base, rng.choice(NAMES) + rng.choice(("", "", "1", "2"))) if p)
        if rng.random() < 0.03:
            name = f"{name}/../{rng.choice(NAMES)}"
        kind = rng.choices(("file", "dir", "sym", "abs", "hard"), weights=(6, 3, 5, 0.5, 1))[0]
        if kind == "file":
            entries.append((name, "file", f"seed-content-{rng.random()}"))
        elif kind == "dir":
            entries.append((name, "dir", ""))
        elif kind == "sym":
            entries.append((name, "sym", _relative(rng, known)))
        elif kind == "abs":
            entries.append((name, "sym", rng.choice(("/", "/tmp", "/etc/passwd"))))
        else:
            entries.append((name, "hard", rng.choice(known) if known else "../victim.txt"))
        known.append(name)
        if kind in ("dir", "sym"):
            folders.append(name)
    return entries


def _pack(path: Path, entries: list[tuple[str, str, str]], mode: str) -> None:
    with tarfile.open(path, mode) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[kind]
            info.linkname = payload
            tar.addfile(info)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sandbox")
    data = root / "outer" / "data"
    data.mkdir(parents=True)
    for name, text in (("admin-token", "t"), ("secret-key", "k"), ("../../victim.txt", "v")):
        (data / name).write_text(text)
    return root


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_random_trees_never_escape(sandbox, mode):
    data = sandbox / "outer" / "data"
    archive = sandbox.parent / f"random.{mode}.tar"
    dest = data / "work" / mode.replace(":", "-") / "src"
    dest.mkdir(parents=True)
    before = snapshot(sandbox, skip=dest)  # the work folders around the target are compared too
    outcomes = {"refused": 0, "extracted": 0}
    for seed in SEEDS:
        entries = random_members(random.Random(seed))
        _pack(archive, entries, mode)
        try:
            extract_tarball(archive, dest)
        except SourceError as error:
            assert os.listdir(dest) == [], (seed, entries, error)  # nothing half-written
            outcomes["refused"] += 1
        else:
            real = os.path.realpath(dest)
            for folder, dirs, files in os.walk(dest):
                for name in (*dirs, *files):
                    resolved = os.path.realpath(os.path.join(folder, name))
                    assert os.path.commonpath([real, resolved]) == real, (seed, entries, name, resolved)
            outcomes["extracted"] += 1
        assert snapshot(sandbox, skip=dest) == before, (seed, entries)
        shutil.rmtree(dest)
        dest.mkdir()
    # the generator must exercise both sides, or the property says little
    assert outcomes["refused"] > 100 and outcomes["extracted"] > 100, outcomes
