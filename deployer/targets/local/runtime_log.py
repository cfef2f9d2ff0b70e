"""Each environment's runtime log on disk: a bounded JSON-lines file per environment.

A file, not a table: an app may print thousands of lines a second, which must cost neither a
database write each nor the build log's retention; the file outlives restarts of `serve`, and
any process on this machine (the web page, the API) reads it. When it grows past `max_bytes`
the newest half is kept (rewritten and renamed into place, so a reader never sees half a file).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from deployer.runtime_logs import MAX_TAIL, RuntimeLine, RuntimeQuery

MAX_BYTES = 1024 * 1024
MAX_LINE_CHARS = 8192
POLL_SECONDS = 0.1


def _parse(raw: bytes) -> RuntimeLine | None:
    try:
        data = json.loads(raw)
        return RuntimeLine(
            int(data["seq"]), datetime.fromisoformat(data["at"]), str(data["text"]), data["source"]
        )
    except (ValueError, KeyError, TypeError):
        return None  # a line cut by a crash of the writer


def _lines(data: bytes) -> list[RuntimeLine]:
    return [line for raw in data.split(b"\n") if raw and (line := _parse(raw)) is not None]


class RuntimeLog:
    """Appends one environment's lines (already masked) to its file, keeping it bounded."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        existing = path.read_bytes() if path.exists() else b""
        if existing and not existing.endswith(b"\n"):  # the last write was cut short
            existing = existing[: existing.rfind(b"\n") + 1]
            path.write_bytes(existing)
        known = _lines(existing[-4 * MAX_LINE_CHARS :])
        self.seq = known[-1].seq if known else 0
        self.size = len(existing)
        self._file: IO[bytes] | None = None

    def append(self, text: str, source: str = "app", at: datetime | None = None) -> None:
        """Write one line; flushed at once so a follower sees it within its poll."""
        self.seq += 1
        entry = {
            "seq": self.seq,
            "at": (at or datetime.now(UTC)).isoformat(),
            "text": text[:MAX_LINE_CHARS],
            "source": source,
        }
        data = json.dumps(entry, ensure_ascii=False).encode() + b"\n"
        if self._file is None:
            self._file = self.path.open("ab")
        self._file.write(data)
        self._file.flush()
        self.size += len(data)
        if self.size > self.max_bytes:
            self._compact()

    def _compact(self) -> None:
        self.close()
        data = self.path.read_bytes()
        keep = data[-(self.max_bytes // 2) :]
        if len(keep) < len(data):  # start at a whole line
            keep = keep[keep.find(b"\n") + 1 :]
        spare = self.path.with_suffix(".tmp")
        spare.write_bytes(keep)
        os.replace(spare, self.path)
        self.size = len(keep)

    def close(self) -> None:
        """Close the file (it is reopened by the next line)."""
        if self._file is not None:
            self._file.close()
            self._file = None


class RuntimeLogs:
    """The runtime logs of every environment of the local target, one file each."""

    def __init__(self, folder: Path, max_bytes: int = MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._open: dict[tuple[str, str], RuntimeLog] = {}

    def path(self, project: str, environment: str) -> Path:
        """Where an environment's log lives (names are DNS labels: safe as file names)."""
        return self.folder / project / f"{environment}.jsonl"

    def writer(self, project: str, environment: str) -> RuntimeLog:
        """The environment's log, opened once per process."""
        key = (project, environment)
        if key not in self._open:
            self._open[key] = RuntimeLog(self.path(project, environment), self.max_bytes)
        return self._open[key]

    def remove(self, project: str, environment: str) -> None:
        """Forget a destroyed environment's log."""
        found = self._open.pop((project, environment), None)
        if found is not None:
            found.close()
        self.path(project, environment).unlink(missing_ok=True)

    def close(self) -> None:
        """Close every open file."""
        for log in self._open.values():
            log.close()
        self._open.clear()

    async def read(self, project: str, environment: str, query: RuntimeQuery) -> AsyncIterator[RuntimeLine]:
        """The lines `query` asks for, oldest first; with `follow`, new ones within POLL_SECONDS."""
        path = self.path(project, environment)
        reader = _Reader(path)
        first = _chosen(await asyncio.to_thread(reader.all), query)
        last = query.after or 0
        for line in first:
            last = line.seq
            yield line
        if not query.follow:
            return
        last = max(last, reader.highest)
        while True:
            await asyncio.sleep(POLL_SECONDS)
            for line in await asyncio.to_thread(reader.new):
                if line.seq > last:
                    last = line.seq
                    yield line


def _chosen(lines: Iterable[RuntimeLine], query: RuntimeQuery) -> list[RuntimeLine]:
    picked = [
        line
        for line in lines
        if (query.after is None or line.seq > query.after) and (query.since is None or line.at >= query.since)
    ]
    tail = max(0, min(query.tail, MAX_TAIL))
    return picked[-tail:] if tail else []


class _Reader:
    """Reads a log file as it grows; starts over when it was compacted (a new inode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.inode = 0
        self.offset = 0
        self.highest = 0

    def all(self) -> list[RuntimeLine]:
        self.inode, self.offset = 0, 0
        return self.new()

    def new(self) -> list[RuntimeLine]:
        try:
            with self.path.open("rb") as file:
                stat = os.fstat(file.fileno())
                if stat.st_ino != self.inode or stat.st_size < self.offset:
                    self.inode, self.offset = stat.st_ino, 0
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        found = _lines(complete)
        if found:
            self.highest = max(self.highest, found[-1].seq)
        return found
