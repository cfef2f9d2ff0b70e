"""Run a shell command in its own process group, streaming lines; killed whole on cancel."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

from deployer.targets.base import LogFn
from deployer.targets.local import pids


def kill_group(process: asyncio.subprocess.Process, sig: int = signal.SIGKILL) -> None:
    """Signal the command and everything it spawned (npm → node, sh → pip, …)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def pump_lines(stream: asyncio.StreamReader, log: LogFn) -> None:
    """Forward a process's output to `log` one line at a time."""
    while line := await stream.readline():
        await log(line.decode(errors="replace").rstrip("\r\n"))


async def run_command(
    command: str, *, cwd: Path, env: dict[str, str], log: LogFn, limit_seconds: float = 1800
) -> int:
    """Run `command` under sh, return its exit status; kill its whole group on cancel/timeout."""
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    records = pids.current.get()
    if records is not None:
        records.add(process.pid, f"build command {command[:80]!r}")
    try:
        async with asyncio.timeout(limit_seconds):
            await pump_lines(process.stdout, log)
            return await process.wait()
    except TimeoutError:
        await log(f"{command!r} took longer than {limit_seconds:.0f} s and was stopped")
        return -1
    finally:
        if process.returncode is None:
            kill_group(process)
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(process.wait())
        if records is not None:
            records.remove(process.pid)
