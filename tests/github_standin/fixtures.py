"""Pytest fixtures for the GitHub stand-in; import them from a conftest.py.

`github_standin` is the stand-in's state (fresh per test); a test fails if any request it
received would have been refused by GitHub. `github_app` is a real `GitHubApp` pointed at it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.github.app import GitHubApp
from bot.github.ratelimit import RetryPolicy
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State

APP_ID = 424242


@dataclass(frozen=True)
class AppKeys:
    """The App's RSA key pair (PEM)."""

    private_pem: str
    public_pem: str


@pytest.fixture(scope="session")
def github_app_keys() -> AppKeys:
    """A fresh RSA key pair standing in for the App's private key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKeys(private, public)


@pytest.fixture(scope="session")
def github_standin_server(github_app_keys: AppKeys) -> Iterator[StandInServer]:
    """The stand-in, serving on a loopback port for the whole session."""
    with StandInServer(State(APP_ID, github_app_keys.public_pem)) as server:
        yield server


@pytest.fixture
def github_standin(github_standin_server: StandInServer) -> Iterator[State]:
    """The stand-in's state, reset for this test; fails the test on any refused request."""
    state = github_standin_server.state
    state.reset()
    yield state
    assert not state.violations, "requests GitHub would refuse:\n" + "\n".join(state.violations)


@pytest.fixture
def github_sleeps() -> list[float]:
    """The waits the retry policy asked for (recorded instead of slept)."""
    return []


@pytest.fixture
def github_app(
    github_standin: State,
    github_standin_server: StandInServer,
    github_app_keys: AppKeys,
    github_sleeps: list[float],
) -> GitHubApp:
    """A real GitHubApp talking to the stand-in; retry waits are recorded, not slept."""

    async def sleep(seconds: float) -> None:
        github_sleeps.append(seconds)
        await asyncio.sleep(0)

    return GitHubApp(
        APP_ID,
        github_app_keys.private_pem,
        base_url=github_standin_server.url,
        policy=RetryPolicy(sleep=sleep),
    )
