"""The repository's config as handlers read it: one listing of the root, the blob only when
its content was not read before."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from handlers.project_lookup import BlobTexts, ProjectRef, repository_config
from tests.handlers.doubles import FakeGitHub


def lookup(repo: str, github: FakeGitHub) -> tuple[Any, ProjectRef]:
    ctx = SimpleNamespace(github=github, log=logging.getLogger("test.project_lookup"))
    return ctx, ProjectRef(1, "shop", repo, "main")


async def test_a_repository_without_config_costs_one_call():
    github = FakeGitHub(files={"README.md": "# shop\n"})
    config = await repository_config(*lookup("octo/no-config", github))
    assert list(config.branches) == []
    assert github.file_calls == 1


async def test_a_config_read_once_is_not_fetched_again_until_it_changes():
    github = FakeGitHub(files={"autostack.yml": "branches: [staging]\n"})
    ctx, project = lookup("octo/cached", github)
    assert list((await repository_config(ctx, project)).branches) == ["staging"]
    assert github.file_calls == 2  # the root's listing, then the blob
    assert list((await repository_config(ctx, project)).branches) == ["staging"]
    assert github.file_calls == 3  # the listing only: its sha names the text already read
    github.files["autostack.yml"] = "branches: [release]\n"
    assert list((await repository_config(ctx, project)).branches) == ["release"]
    assert github.file_calls == 5


@pytest.mark.parametrize(
    ("files", "branches"),
    [
        ({"autostack.yaml": "branches: [yaml]\n"}, ["yaml"]),
        ({"autostack.yml": "branches: [yml]\n", "autostack.yaml": "branches: [yaml]\n"}, ["yml"]),
        ({"autostack.yml": "branches: {nope"}, []),
    ],
)
async def test_which_file_counts(files: dict[str, str], branches: list[str]):
    config = await repository_config(*lookup("octo/names", FakeGitHub(files=files)))
    assert list(config.branches) == branches


def test_the_blob_cache_forgets_the_least_recently_used():
    cache = BlobTexts(size=2)
    cache.put(("r", "a"), "A")
    cache.put(("r", "b"), "B")
    assert cache.get(("r", "a")) == "A"
    cache.put(("r", "c"), "C")
    assert cache.get(("r", "b")) is None
    assert (cache.get(("r", "a")), cache.get(("r", "c"))) == ("A", "C")
