"""Which TCP ports an app's process tree listens on, read from /proc (Linux; elsewhere none).

The tree is the app command's session: the supervisor starts it as a session leader, so every
process it spawns (npm → node, gunicorn → workers) shares that session id.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
_LISTEN = "0A"


def listening_sockets(table: str) -> dict[int, int]:
    """The LISTEN sockets of a /proc/net/tcp or tcp6 table as {inode: port} (pure)."""
    found: dict[int, int] = {}
    for row in table.splitlines()[1:]:
        fields = row.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        _, _, port = fields[1].rpartition(":")
        found[int(fields[9])] = int(port, 16)
    return found


def session_of(stat: str) -> int | None:
    """The session id in a /proc/<pid>/stat line (pure); the command name may hold ) and spaces."""
    fields = stat[stat.rfind(")") + 1 :].split()
    return int(fields[3]) if len(fields) > 3 else None


def socket_inode(link: str) -> int | None:
    """The inode of an fd link `socket:[12345]` (pure); None for other files."""
    return int(link[8:-1]) if link.startswith("socket:[") and link.endswith("]") else None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _session_pids(leader: int, proc: Path) -> list[int]:
    pids = []
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit() and session_of(_read(entry / "stat")) == leader:
            pids.append(int(entry.name))
    return pids


def _inodes(pids: Iterable[int], proc: Path) -> set[int]:
    inodes: set[int] = set()
    for pid in pids:
        fd_dir = proc / str(pid) / "fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:  # the process ended, or is not ours to look into
            continue
        for name in names:
            try:
                inode = socket_inode(os.readlink(fd_dir / name))
            except OSError:
                continue
            if inode is not None:
                inodes.add(inode)
    return inodes


def listening_ports(leader: int, proc: Path = PROC) -> set[int]:
    """The TCP ports the processes of session `leader` listen on (empty without /proc)."""
    sockets = listening_sockets(_read(proc / "net" / "tcp"))
    sockets.update(listening_sockets(_read(proc / "net" / "tcp6")))
    if not sockets:
        return set()
    return {sockets[inode] for inode in _inodes(_session_pids(leader, proc), proc) if inode in sockets}
