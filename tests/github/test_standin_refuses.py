"""The GitHub stand-in holds requests to GitHub's OpenAPI description beyond their bodies (path
and query parameters, the body's media type, Accept) and to the headers GitHub's REST docs
require; and it holds its own answers to the documented statuses and schemas, so a test cannot
pass on an answer GitHub never gives."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.github_standin.answers import Answer
from tests.github_standin.app import build_app
from tests.github_standin.fixtures import APP_ID
from tests.github_standin.routes import HANDLERS
from tests.github_standin.state import State

TOKEN = "ghs_standin_test_token"
GOOD = {
    "authorization": f"Bearer {TOKEN}",
    "accept": "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "user-agent": "autostack-test",
}
REPO = "/repos/octo-org/shop"


@pytest.fixture
async def standin(github_app_keys) -> AsyncIterator[tuple[State, httpx.AsyncClient]]:
    state = State(APP_ID, github_app_keys.public_pem)
    state.tokens[TOKEN] = (1, time.time() + 3600)
    transport = httpx.ASGITransport(app=build_app(state))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://api.github.com", headers=GOOD
    ) as client:
        yield state, client


async def test_a_documented_request_is_answered(standin):
    state, client = standin
    answer = await client.get(f"{REPO}/deployments", params={"per_page": "5", "environment": "pr-1"})
    assert answer.status_code == 200 and state.violations == []


@pytest.mark.parametrize(
    ("method", "path", "query", "refusal"),
    [
        (
            "GET",
            f"{REPO}/deployments",
            {"perpage": "5"},
            "query parameter 'perpage' is not one of this operation's",
        ),
        (
            "GET",
            f"{REPO}/deployments",
            {"per_page": "lots"},
            "query parameter per_page='lots': is not an integer",
        ),
        (
            "GET",
            f"{REPO}/commits/main/check-runs",
            {"status": "done"},
            "query parameter status='done': 'done' is not one of ['queued', 'in_progress', 'completed']",
        ),
        (
            "GET",
            f"{REPO}/deployments/abc/statuses",
            {},
            "path parameter deployment_id='abc': is not an integer",
        ),
    ],
)
async def test_a_parameter_github_does_not_take_is_refused(standin, method, path, query, refusal):
    state, client = standin
    answer = await client.request(method, path, params=query)
    assert answer.status_code == 422 and refusal in answer.json()["message"]
    assert [refusal in v for v in state.violations] == [True]


@pytest.mark.parametrize(
    ("headers", "status", "refusal"),
    [
        (
            {"content-type": "text/plain"},
            415,
            "Content-Type 'text/plain': this operation takes application/json",
        ),
        ({"accept": "text/html"}, 415, "Accept 'text/html': this operation answers with application/json"),
        ({"user-agent": ""}, 400, "no User-Agent header"),
        (
            {"x-github-api-version": "2021-01-01"},
            400,
            "X-GitHub-Api-Version '2021-01-01' is not one GitHub supports",
        ),
    ],
)
async def test_a_header_github_refuses_is_refused(standin, headers, status, refusal):
    state, client = standin
    body = b'{"name": "AutoStack / production", "head_sha": "' + b"a" * 40 + b'"}'
    sent = {"content-type": "application/json", **headers}
    answer = await client.post(f"{REPO}/check-runs", content=body, headers=sent)
    assert answer.status_code == status and refusal in answer.json()["message"]
    assert [refusal in v for v in state.violations] == [True]
    assert state.check_runs == {}


async def test_its_own_undocumented_answer_is_a_violation(standin, monkeypatch):
    state, client = standin
    key = ("GET", "/repos/{owner}/{repo}/deployments")
    monkeypatch.setitem(HANDLERS, key, lambda *args: Answer(200, [{"id": "seven"}]))
    await client.get(f"{REPO}/deployments")
    monkeypatch.setitem(HANDLERS, key, lambda *args: Answer(201, []))
    await client.get(f"{REPO}/deployments")
    monkeypatch.setitem(HANDLERS, key, lambda *args: Answer(404, {"gone": True}))
    await client.get(f"{REPO}/deployments")
    wrong_type, wrong_status, wrong_error = (v.split(": ", 1)[1] for v in state.violations)
    assert wrong_type.startswith(
        "0/id: 'seven' is not of type 'integer'; 0: 'node_id' is a required property"
    )
    assert wrong_status == "answered 201, not one of 200"
    assert wrong_error == "(body): an error answer of GitHub's carries its 'message'"
