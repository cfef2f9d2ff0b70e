"""Pid records of the processes the local target starts (apps and build commands): one file
each under the data folder, so that a start after `kill -9` of serve finds the orphans and
stops them before it starts anything.

Each runs in a process group of its own (start_new_session), and a record names its group
and its start time from /proc/<pid>/stat: a pid the kernel has given to some other process
since is not ours, and is left alone.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)
PROC = Path("/proc")

# The records of the target whose build is running in this task (LocalTarget.build sets it),
# so build commands are recorded without every builder function passing it along.
current: contextvars.ContextVar[PidRecords | None] = contextvars.ContextVar("pid_records", default=None)


@dataclass(frozen=True, slots=True)
class PidRecord:
    """One process the local target started."""

    pid: int
    pgid: int
    start_time: int  # clock ticks after boot, field 22 of /proc/<pid>/stat
    what: str


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def start_time_of(pid: int) -> int | None:
    """When the process started (clock ticks after boot), or None when there is no such pid."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def _group_members(record: PidRecord) -> list[int]:
    """Live pids of the recorded process group: the leader if it is still the recorded
    process, and members started after it. A process leading a group of the same number that
    is not the recorded leader got the number reused: it and its group are not ours."""
    stats = {int(e.name): _stat(int(e.name)) for e in PROC.iterdir() if e.name.isdigit()}
    members = []
    for pid, fields in stats.items():
        # field 3 is the state (Z: a zombie, already dead), field 5 the process group
        if not fields or int(fields[2]) != record.pgid or fields[0] == "Z":
            continue
        started = int(fields[19])
        if pid == record.pgid and started != record.start_time:
            return []
        if started >= record.start_time:
            members.append(pid)
    return members


class PidRecords:
    """The pid files in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, pid: int, what: str) -> None:
        """Record a process just started as a group leader."""
        fields = _stat(pid)
        if fields is None:
            return  # already gone
        self.folder.mkdir(parents=True, exist_ok=True)
        record = PidRecord(pid, int(fields[2]), int(fields[19]), what)
        temporary = self.folder / f".{pid}.tmp"
        temporary.write_text(json.dumps(asdict(record)))
        temporary.replace(self.folder / f"{pid}.json")

    def remove(self, pid: int) -> None:
        """Forget a process that has exited."""
        (self.folder / f"{pid}.json").unlink(missing_ok=True)

    @contextlib.contextmanager
    def tracking(self, pid: int, what: str) -> Iterator[None]:
        """Keep a record of `pid` for as long as the block runs."""
        self.add(pid, what)
        try:
            yield
        finally:
            self.remove(pid)

    def records(self) -> list[PidRecord]:
        """Every record on disk; unreadable files are dropped."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(PidRecord(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError):
                log.warning("dropping unreadable pid record %s", path.name)
                path.unlink(missing_ok=True)
        return found

    def reap(self, grace: float = 5.0) -> list[PidRecord]:
        """Stop the groups of recorded processes still running (SIGTERM, then SIGKILL after
        `grace` seconds) and delete every record; returns the records that were running."""
        orphans = {r: _group_members(r) for r in self.records()}
        running = [record for record, members in orphans.items() if members]
        for record in running:
            log.warning("stopping orphaned %s (pid %d) left by a previous run", record.what, record.pid)
            _signal_group(record, orphans[record], signal.SIGTERM)
        deadline = time.monotonic() + grace
        while running and time.monotonic() < deadline:
            if not any(_group_members(r) for r in running):
                break
            time.sleep(0.05)
        for record in running:
            if members := _group_members(record):
                _signal_group(record, members, signal.SIGKILL)
        for record in orphans:
            self.remove(record.pid)
        return running


def _signal_group(record: PidRecord, members: list[int], sig: int) -> None:
    # the whole group when its leader is ours still; else only the members that postdate it,
    # since a group id outlives its leader and the kernel may hand the number out again
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if start_time_of(record.pid) == record.start_time:
            os.killpg(record.pgid, sig)
            return
    for pid in members:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
