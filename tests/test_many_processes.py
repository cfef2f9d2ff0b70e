"""Many processes on one PostgreSQL and one Redis, as the chart runs them: 3 web (`serve` with
AUTOSTACK_DEPLOYS_IN_WEB=0), 2 delivery workers, 2 deploy workers (`worker --deploys`), each
role restarted once mid-flight, GitHub played by the stand-in.

The burst is /help commands (each answered with 👀, a reply and 🚀) and comments that are no
command, spread over the three web processes while one of each role restarts. The kubernetes
target points at a control plane that refuses connections, so every build fails at the
cluster: what is judged is the coordination of the processes (one effect per delivery, one
sticky comment per PR, crons once per tick, nothing lost), not a rollout
(tests/kubernetes/cluster has those). Prints the figures it measured and records them as the
`many_processes_figures` test-suite property of pytest's JUnit XML."""

from __future__ import annotations

import contextlib
import json
import math
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import redis
from arq.jobs import deserialize_result
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine, select

from bot.reporter.comment import MARKER
from deployer.state import TERMINAL
from store.db import sync_url
from store.migrate import upgrade
from store.models import Delivery, Deployment
from tests.conftest import SECRET, _fresh_postgres_database, signed_headers
from tests.github_standin.comments import add_comment
from tests.github_standin.fixtures import APP_ID, AppKeys
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State
from tests.handlers.doubles import REPO, pr_comment, pull_request
from tests.handlers.e2e_harness import tarball
from tests.metrics_text import metric
from tests.processes import AUTOSTACK, ROOT, autostack_env
from tests.servers import RedisServer, free_ports

pytestmark = pytest.mark.slow

PRS = (11, 12, 13)
HELP_COMMENTS = 4  # per PR; each is three content calls, and GitHub allows 80 a minute
CHATTER_PER_STEP = 20  # comments that are no command, between the /help ones: the burst
BOT = "autostack[bot]"
# a cron's run is due this long after a role came up, and its result is in this long after
CRON_SLACK = 10
# the crons judged, by the second of each 10 s they are due at: the delivery workers' outbox
# sweep and the deploy workers' deployment sweep
CRONS = {"sweep_outbox": 0, "sweep_deployments": 5}


@dataclass
class Role:
    """One `autostack` process that can be restarted; `port` answers /readyz and /metrics."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    port: int
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    scrapes: list[str] = field(default_factory=list)
    stopped_at: list[float] = field(default_factory=list)  # unix times of each SIGTERM

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        with (self.log_dir / f"{self.name}.{self.starts}.log").open("wb") as out:
            self.proc = subprocess.Popen(
                [*AUTOSTACK, *self.args], env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )

    def wait_ready(self, seconds: float = 300) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} never became ready:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stopped_at.append(time.time())
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def scrape(self) -> str:
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        self.scrapes.append(text)
        return text

    def log(self) -> str:
        return (self.log_dir / f"{self.name}.{self.starts}.log").read_text()[-4000:]

    def logged(self, text: str) -> int:
        """How many lines of all this role's runs contain `text`."""
        runs = (self.log_dir / f"{self.name}.{n}.log" for n in range(1, self.starts + 1))
        return sum(text in line for run in runs for line in run.read_text().splitlines())


def _kubeconfig(path: Path, port: int) -> Path:
    """A kubeconfig naming a control plane nobody listens on: cluster calls are refused at once."""
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "unused"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    return path


class Sender:
    """Signs deliveries and spreads them across the web processes, as a load balancer does.

    A web process that cannot take a delivery now (connection refused while it restarts, or a
    5xx) is not an answer: the delivery goes to the next one, as GitHub's redelivery would land
    elsewhere. Any 4xx is a bug and fails the test at once."""

    def __init__(self, webs: list[Role]) -> None:
        self.webs = webs
        self.next = 0
        self.sent: list[str] = []
        self.redirected = 0  # deliveries a web process could not take, taken by another

    def send(self, event: str, body: dict[str, Any]) -> str:
        raw = json.dumps(body).encode()
        delivery_id = str(uuid.uuid4())
        last = "no answer"
        for attempt in range(len(self.webs) * 20):
            web = self.webs[self.next % len(self.webs)]
            self.next += 1
            try:
                answer = httpx.post(
                    f"{web.url}/api/github/webhooks",
                    content=raw,
                    headers=signed_headers(raw, event, delivery_id),
                    timeout=10,
                )
            except httpx.TransportError as exc:
                last = f"{web.name}: {type(exc).__name__}"
            else:
                status = answer.json().get("status") if answer.status_code < 300 else None
                # a duplicate only after a try whose answer was lost: that try stored it
                if (answer.status_code, status) == (202, "accepted") or (
                    attempt and (answer.status_code, status) == (200, "duplicate")
                ):
                    self.sent.append(delivery_id)
                    self.redirected += attempt > 0
                    return delivery_id
                if answer.status_code < 500:
                    raise AssertionError(
                        f"{web.name} answered {event} delivery {delivery_id} "
                        f"{answer.status_code} {answer.text[:300]}"
                    )
                last = f"{web.name}: {answer.status_code} {answer.text[:200]}"
            time.sleep(0.05)
        raise AssertionError(f"no web process took {event} delivery {delivery_id}; last: {last}")


def _rows(database_url: str) -> tuple[list[Delivery], list[Deployment]]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            deliveries = list(conn.execute(select(Delivery.delivery_id, Delivery.state, Delivery.error)))
            deployments = list(
                conn.execute(select(Deployment.environment, Deployment.commit_sha, Deployment.state))
            )
            return deliveries, deployments  # type: ignore[return-value]
    finally:
        engine.dispose()


def _settle(database_url: str, sender: Sender, seconds: float = 240) -> None:
    """Wait until every acknowledged delivery is stored and finished, and every deployment ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deliveries, deployments = _rows(database_url)
        finished = all(d.state in ("done", "ignored", "failed") for d in deliveries)
        if finished and len(deliveries) == len(sender.sent) and all(d.state in TERMINAL for d in deployments):
            return
        time.sleep(1)


def _cron_runs(redis_url: str) -> dict[str, Counter[int]]:
    """Each cron's successful runs per due time (unix seconds), from arq's kept results (every
    run leaves one). The due time is in a unique cron's job id; a job without one counts at its enqueue
    time rounded to the 10 s schedule, so two replicas each queueing a run show as two."""
    client = redis.Redis.from_url(redis_url)
    runs: dict[str, Counter[int]] = {}
    try:
        for key in client.scan_iter(match="arq:result:*", count=1000):
            result = deserialize_result(client.get(key))
            # a run cut short by a SIGTERM is retried after 60 s and refused as past its try
            if not result.function.startswith("cron:") or not result.success:
                continue
            name = result.function.removeprefix("cron:")
            due_ms = (result.job_id or "").removeprefix(f"{result.function}:")
            if due_ms.isdigit():
                due = int(due_ms) // 1000
            else:
                offset = CRONS.get(name, 0)
                due = round((result.enqueue_time.timestamp() - offset) / 10) * 10 + offset
            runs.setdefault(name, Counter())[due] += 1
    finally:
        client.close()
    return runs


def _tick_at(moment: float, offset: int) -> int:
    """The due time (unix seconds) of the last tick of a 10 s cron at or before `moment`."""
    return math.floor((moment - offset) / 10) * 10 + offset


def _restart(role: Role, restarted: list[str]) -> None:
    """Restart `role` while deliveries keep coming (run in a thread); what went wrong is put in
    `restarted` in place of the role's name, for the test to show."""
    try:
        role.restart()
        role.wait_ready()
    except Exception as exc:
        restarted.append(f"{role.name}: {exc}")
    else:
        restarted.append(role.name)


def test_three_web_two_workers_two_deploy_workers_restarted_mid_flight(
    tmp_path: Path,
    pg_admin_url: str,
    github_standin: State,
    github_standin_server: StandInServer,
    github_app_keys: AppKeys,
    record_testsuite_property: Callable[[str, object], None],
):
    started = time.monotonic()
    database_url = _fresh_postgres_database(pg_admin_url)
    upgrade(database_url)
    queue = RedisServer().start()
    moto_port, refused_port, *ports = free_ports(9)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    aws = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1",
    }
    s3 = boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=aws["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="sources", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    common = {
        **aws,
        "DATABASE_URL": database_url,
        "REDIS_URL": queue.url,
        "WEBHOOK_SECRET": SECRET,
        "SECRET_KEY": "many-processes-key",
        "APP_ID": str(APP_ID),
        "PRIVATE_KEY": github_app_keys.private_pem,
        "GITHUB_API_URL": github_standin_server.url,
        "AUTOSTACK_URL": "http://autostack.test",
        "AUTOSTACK_TARGET": "kubernetes",
        "KUBECONFIG": str(_kubeconfig(tmp_path / "kubeconfig", refused_port)),
        "SOURCES_BUCKET": "sources",
        "APPS_DOMAIN": "apps.example.com",
        "PREVIEW_DOMAIN": "preview.example.com",
        "AUTOSTACK_DEPLOYS_IN_WEB": "0",
        "AUTOSTACK_REDELIVER_INTERVAL": "1",
    }
    roles: list[Role] = []
    for kind, args, count in (
        ("web", ("serve",), 3),
        ("worker", ("worker",), 2),
        ("deploy", ("worker", "--deploys"), 2),
    ):
        for n in range(count):
            port = ports[len(roles)]
            env = autostack_env(
                **common,
                AUTOSTACK_DATA_DIR=str(tmp_path / f"{kind}-{n}"),
                **({"PORT": str(port)} if kind == "web" else {"AUTOSTACK_METRICS_PORT": str(port)}),
            )
            roles.append(Role(f"{kind}-{n}", args, env, port, tmp_path))
    webs, workers, deploys = roles[:3], roles[3:5], roles[5:]
    sender = Sender(webs)
    for pr in PRS:
        for sha in (f"{pr:02d}" * 20, f"{pr + 50:02d}" * 20):
            github_standin.add_tarball(REPO, sha, tarball(sha, {"index.html": f"<h1>{sha}</h1>"}))
    try:
        for role in roles:
            role.start()
        for role in roles:
            role.wait_ready()
        up, up_at = time.monotonic(), time.time()
        before = {role.name: role.scrape() for role in roles}

        for pr in PRS:
            sender.send("pull_request", pull_request("opened", number=pr, sha=f"{pr:02d}" * 20))
        comment_ids: list[int] = []
        restarted: list[str] = []
        # one of each role at once: the others of its role carry on meanwhile
        restarts = [
            threading.Thread(target=_restart, args=(role, restarted))
            for role in (webs[0], workers[0], deploys[0])
        ]
        chatter = 0
        for i in range(HELP_COMMENTS):
            if i == 1:  # mid-burst, while deliveries and builds are in flight
                for thread in restarts:
                    thread.start()
            if i == HELP_COMMENTS // 2:
                for pr in PRS:
                    sha = f"{pr + 50:02d}" * 20
                    pushed = pull_request(
                        "synchronize", number=pr, sha=sha, updated_at="2024-01-01T10:30:00Z"
                    )
                    sender.send("pull_request", pushed)
            for pr in PRS:
                comment_id = add_comment(github_standin, REPO, pr, "/help")
                body = pr_comment("/help", number=pr)
                body["comment"]["id"] = comment_id
                comment_ids.append(comment_id)
                sender.send("issue_comment", body)
            for n in range(CHATTER_PER_STEP):
                chatter += 1
                body = pr_comment(f"thanks, looking at it ({chatter})", number=PRS[n % len(PRS)])
                body["comment"]["id"] = 900_000 + chatter
                sender.send("issue_comment", body)
        # the burst may end before the last restart: it still counts as mid-flight for the builds
        for thread in restarts:
            thread.join(timeout=600)
        burst_took = time.monotonic() - up
        assert sorted(restarted) == sorted([webs[0].name, workers[0].name, deploys[0].name]), restarted
        # the pull requests close once what came before was handled, as a person closes one
        # after its last push: a close overtaking a redelivered push is tests/handlers' concern
        _settle(database_url, sender)
        for pr in PRS:
            sha = f"{pr + 50:02d}" * 20
            sender.send(
                "pull_request", pull_request("closed", number=pr, sha=sha, updated_at="2024-01-02T10:00:00Z")
            )
        _settle(database_url, sender)
        settled_after = time.monotonic() - up
        # a full cron tick (10 s) with every process up, so each role's crons ran after the
        # restarts, and at least three ticks of each cron inside the judged window
        time.sleep(max(12.0, up_at + 2 * CRON_SLACK + 35 - time.time()))
        after = {role.name: role.scrape() for role in roles}
        took = time.monotonic() - up
        window = (up_at + CRON_SLACK, time.time() - CRON_SLACK)
    finally:
        for role in roles:
            role.stop()
        moto.stop()
    try:
        runs = _cron_runs(queue.url)
    finally:
        queue.stop()

    deliveries, deployments = _rows(database_url)
    # the tick each restarted replica's cron may have been running when it was stopped
    interrupted = {
        cron: {_tick_at(t, offset) for t in role.stopped_at[:1]}
        for (cron, offset), role in zip(CRONS.items(), (workers[0], deploys[0]), strict=True)
    }
    reactions = Counter((r["_comment_id"], r["content"]) for r in github_standin.reactions)
    ours = {pr: [c for c in github_standin.comments_on(REPO, pr) if c["user"]["login"] == BOT] for pr in PRS}
    sticky = {pr: sum(c["body"].startswith(MARKER) for c in ours[pr]) for pr in PRS}
    figures = {
        "processes": len(roles),
        "deliveries_acknowledged": len(sender.sent),
        "deliveries_redirected": sender.redirected,
        "deliveries_stored": len(deliveries),
        "deliveries_processed": sum(d.state in ("done", "ignored") for d in deliveries),
        # a job that stalled past its claim (15 s): the sweeper handed its delivery on
        "deliveries_run_again_after_a_lost_claim": sum(
            w.logged("claim lost before it finished") for w in workers
        ),
        "help_handled_twice": sum(
            reactions[(c, "eyes")] > 1 or reactions[(c, "rocket")] > 1 for c in comment_ids
        ),
        "sticky_comments_per_pr": sticky,
        "replies_per_pr": {pr: len(ours[pr]) - sticky[pr] for pr in PRS},
        "deployments": dict(Counter(d.state for d in deployments)),
        "cron_runs_per_tick": {
            cron: dict(Counter(ticks[t] for t in ticks if window[0] <= t <= window[1]))
            for cron, ticks in runs.items()
            if cron in CRONS
        },
        "cron_ticks_lost_to_a_restart": sum(
            runs.get(c, Counter())[t] == 0 for c in CRONS for t in interrupted[c]
        ),
        "restarts": restarted,
        "seconds_to_ready": round(up - started, 1),
        "seconds_burst_and_restarts": round(burst_took, 1),
        "seconds_to_settle": round(settled_after, 1),
        "seconds_from_ready": round(took, 1),
        "seconds_total": round(time.monotonic() - started, 1),
    }
    print("many processes:", json.dumps(figures))
    (tmp_path / "figures.json").write_text(json.dumps(figures))
    record_testsuite_property("many_processes_figures", json.dumps(figures))

    # nothing lost, nothing doubled: every acknowledged delivery stored once and handled
    assert sorted(d.delivery_id for d in deliveries) == sorted(sender.sent)
    unfinished = [(d.delivery_id, d.state, d.error) for d in deliveries if d.state not in ("done", "ignored")]
    assert not unfinished, unfinished

    # one effect per delivery: each /help got 👀 and 🚀 once, and one reply
    assert {c: (reactions[(c, "eyes")], reactions[(c, "rocket")]) for c in comment_ids} == {
        c: (1, 1) for c in comment_ids
    }
    assert figures["sticky_comments_per_pr"] == {pr: 1 for pr in PRS}
    assert figures["replies_per_pr"] == {pr: HELP_COMMENTS for pr in PRS}
    for pr in PRS:
        # the pushed head deployed once, the first head at most once (an `opened` a restart
        # delayed past the push is stale and ignored), each ended: failed at the unreachable
        # cluster, superseded or cancelled
        heads = Counter(d.commit_sha for d in deployments if d.environment == f"pr-{pr}")
        assert heads[f"{pr + 50:02d}" * 20] == 1 and heads[f"{pr:02d}" * 20] <= 1 and len(heads) <= 2, heads
        mine = [d for d in deployments if d.environment == f"pr-{pr}"]
        assert all(d.state in TERMINAL for d in mine), mine

    # cron work once per tick across replicas, and no tick skipped while the roles ran; the
    # one tick a restarted replica was running at its SIGTERM may be lost (arq cancels it, and
    # a cron has one try), the next tick does its work
    for cron, offset in CRONS.items():
        ticks = runs.get(cron, Counter())
        due = range(math.ceil((window[0] - offset) / 10) * 10 + offset, int(window[1]) + 1, 10)
        assert len(due) >= 3, f"the run left only {len(due)} ticks of {cron} to judge"
        cut = interrupted[cron]
        assert {t: ticks[t] for t in due if t not in cut} == {t: 1 for t in due if t not in cut}, (
            f"{cron}: {sorted(ticks.items())}"
        )
        assert max(ticks.values()) == 1, f"{cron} ran twice in a tick: {sorted(ticks.items())}"

    # metrics on every process moved with the work
    handled = sum(
        metric(after[w.name], "autostack_job_duration_seconds_count", job="handle_delivery") for w in workers
    )
    assert handled > 0 and all(
        metric(after[w.name], "autostack_job_duration_seconds_count") > 0 for w in workers
    )
    accepted = sum(
        metric(after[w.name], "autostack_webhook_deliveries_total", outcome="accepted") for w in webs
    )
    assert accepted > 0
    phases = sum(metric(after[d.name], "autostack_deployment_phase_seconds_count") for d in deploys)
    finished = sum(metric(after[d.name], "autostack_deployments_finished_total") for d in deploys)
    assert phases > 0 and finished > 0
    failed = sum(1 for d in deployments if d.state == "failed")
    for role in roles:
        assert metric(before[role.name], "autostack_deployments", state="failed") == 0
        assert metric(after[role.name], "autostack_deployments", state="failed") == failed
        assert 'autostack_queue_depth{queue="deliveries"}' in after[role.name]
    budget = metric(after[webs[1].name], "autostack_github_budget_remaining", window="hour")
    # the stand-in's installation drew on the shared budget: some of the hour's 500 are gone
    assert metric(before[webs[1].name], "autostack_github_budget_remaining") == 0
    assert 0 < budget < 500, after[webs[1].name]
