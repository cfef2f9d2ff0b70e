"""The App's webhook delivery log against the stand-in: JWT only, pages, redelivery, and the
pure parsing of Link headers and log entries."""

from __future__ import annotations

import json
import time

import httpx
import jsonschema
import pytest

from bot.github.app import GitHubApp
from bot.github.errors import GitHubPermanentError
from bot.github.hook_deliveries import attempt_from, next_cursor
from tests.github_standin.hook_deliveries import record_attempt, redeliveries
from tests.github_standin.openapi import github_openapi
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State

PING = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 9000}).encode()


@pytest.mark.parametrize(
    ("link", "cursor"),
    [
        (None, None),
        ("", None),
        (
            '<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967>; rel="next"',
            "v1_12077215967",
        ),
        (
            '<https://api.github.com/app/hook/deliveries?cursor=v1_9&per_page=2>; rel="next", '
            '<https://api.github.com/app/hook/deliveries?per_page=2>; rel="first"',
            "v1_9",
        ),
        ('<https://api.github.com/app/hook/deliveries?per_page=2>; rel="first"', None),
        ('<https://api.github.com/app/hook/deliveries?per_page=2>; rel="next"', None),
    ],
)
def test_next_cursor_is_read_from_the_link_header(link, cursor):
    assert next_cursor(link) == cursor


def test_an_entry_missing_a_field_names_it():
    with pytest.raises(GitHubPermanentError, match="status_code"):
        attempt_from(
            {
                "id": 1,
                "guid": "g",
                "delivered_at": "2021-05-12T20:33:44Z",
                "redelivery": False,
                "event": "push",
            }
        )


def test_the_documented_example_parses():
    spec = github_openapi()
    example = spec.example(spec.operation("GET", "/app/hook/deliveries"), 200)
    first, second = (attempt_from(item) for item in example)
    assert (first.id, first.ok, first.redelivery, first.delivered_at.isoformat()) == (
        12345678,
        True,
        False,
        "2019-06-03T00:57:16+00:00",
    )
    assert second.guid == first.guid and second.redelivery


async def test_pages_follow_the_cursor_newest_first(github_app: GitHubApp, github_standin: State):
    now = time.time()
    entries = [
        record_attempt(github_standin, "ping", PING, status_code=503, delivered_at=now - i)
        for i in range(150)
    ]
    hooks = github_app.hook_deliveries()
    first = await hooks.page()
    second = await hooks.page(first.next_cursor)
    assert [a.id for a in first.attempts + second.attempts] == [e["id"] for e in entries]
    assert len(first.attempts) == 100 and second.next_cursor is None
    [call, follow] = github_standin.calls_to("GET", "/app/hook/deliveries")
    assert call.query == {"per_page": "100"}
    assert follow.query == {"per_page": "100", "cursor": first.next_cursor}


async def test_answers_match_the_documented_schema(
    github_app: GitHubApp, github_standin: State, github_standin_server
):
    entry = record_attempt(github_standin, "ping", PING, status_code=0)
    token = github_app.credentials.jwt()
    async with httpx.AsyncClient(
        base_url=github_standin_server.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        listed = (await http.get("/app/hook/deliveries")).json()
        single = (await http.get(f"/app/hook/deliveries/{entry['id']}")).json()
    spec = github_openapi()
    schemas = spec.spec["components"]["schemas"]
    jsonschema.validate(listed, {"type": "array", "items": schemas["hook-delivery-item"]})
    jsonschema.validate(single, schemas["hook-delivery"])
    assert single["request"]["headers"]["X-GitHub-Delivery"] == entry["guid"]


async def test_installation_tokens_are_refused(
    github_app: GitHubApp, github_standin: State, github_standin_server
):
    await github_app.tokens.get(1)
    [token] = github_standin.tokens
    async with httpx.AsyncClient(base_url=github_standin_server.url) as http:
        response = await http.get("/app/hook/deliveries", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_a_redelivery_logs_a_new_attempt_of_the_same_guid(
    github_app: GitHubApp, github_standin: State, github_standin_server: StandInServer
):
    failed = record_attempt(github_standin, "ping", PING, status_code=503)
    await github_app.hook_deliveries().redeliver(failed["id"])
    [call] = github_standin.calls_to("POST", "/attempts$")
    assert (call.path, call.status) == (f"/app/hook/deliveries/{failed['id']}/attempts", 202)
    deadline = time.monotonic() + 5
    while not redeliveries(github_standin) and time.monotonic() < deadline:
        time.sleep(0.02)
    [again] = redeliveries(github_standin)
    # nowhere to send it (no webhook URL): GitHub logs the attempt as failed to connect
    assert (again["guid"], again["status_code"], again["redelivery"]) == (failed["guid"], 0, True)


async def test_an_unknown_delivery_is_404(github_app: GitHubApp, github_standin: State):
    with pytest.raises(GitHubPermanentError) as caught:
        await github_app.hook_deliveries().redeliver(99999999)
    assert caught.value.status == 404
