"""A deployment that is building when the fault strikes: `autostack deploy` of a static site
whose build takes a minute, through a running `serve`, with a team's API token."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from deployer.state import TERMINAL
from store.db import sync_url
from store.models import ApiToken, Deployment, Team
from tests.processes import AUTOSTACK, ROOT

if TYPE_CHECKING:
    from tests.chaos.stack import Stack

BUILD_SECONDS = 60


class DeployUnderway:
    """Starts a deployment and waits until its build runs; then says how it ended."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._marker = f"chaos-build-{uuid.uuid4().hex[:8]}"
        self._engine = create_engine(sync_url(stack.database_url))
        self._cli: subprocess.Popen[bytes] | None = None
        self._ended: tuple[float, str] | None = None
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> DeployUnderway:
        token = uuid.uuid4().hex
        with Session(self._engine) as session, session.begin():
            team = Team(name="chaos")
            session.add(team)
            session.flush()
            digest = hashlib.sha256(token.encode()).hexdigest()
            session.add(ApiToken(team_id=team.id, name="chaos", token_hash=digest, role="owner"))
        site = self._stack.tmp / "site"
        site.mkdir()
        (site / "index.html").write_text("<h1>chaos</h1>")
        # the marker names the build's processes, so the test can tell whether any outlived serve
        (site / "autostack.yml").write_text(f'build:\n  build: "sleep {BUILD_SECONDS} # {self._marker}"\n')
        env = {
            **self._stack.env,
            "AUTOSTACK_TOKEN": token,
            "XDG_CONFIG_HOME": str(self._stack.tmp / "config"),
        }
        with (self._stack.tmp / "deploy.log").open("wb") as out:
            self._cli = subprocess.Popen(
                [*AUTOSTACK, "deploy", str(site), "--server", self._stack.base],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 90
        while not self.builds_alive():
            log = (self._stack.tmp / "deploy.log").read_text(errors="replace")
            assert time.monotonic() < deadline and self._cli.poll() is None, (
                f"the build never started:\n{log}"
            )
            time.sleep(0.1)
        self._watcher.start()
        return self

    def _watch(self) -> None:
        """Note when the deployment reached a final state, while the test does other things."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with contextlib.suppress(SQLAlchemyError):
                state = self.state()
                if state in TERMINAL:
                    self._ended = (time.monotonic(), state)
                    return
            time.sleep(0.25)

    def builds_alive(self) -> int:
        """How many of this deployment's build processes are running."""
        count = 0
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if self._marker.encode() in cmdline.read_bytes():
                    count += 1
            except OSError:
                continue
        return count

    def state(self) -> str:
        with Session(self._engine) as session:
            return session.scalars(select(Deployment.state).order_by(Deployment.id)).first() or "missing"

    def wait_ended(self, since: float, limit: float) -> tuple[float, str]:
        """(seconds from `since` until the deployment reached a final state, that state)."""
        self._watcher.join(timeout=max(0.0, since + limit - time.monotonic()))
        if self._cli is not None and self._cli.poll() is None:
            self._cli.kill()
            self._cli.wait()
        ended = self._ended
        self._engine.dispose()
        if ended is None:
            return time.monotonic() - since, "not-ended"
        return ended[0] - since, ended[1]
