"""The project a delivery is about, and its `autostack.yml` from the default branch."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from deployer.apps import DEFAULT_APP
from deployer.config import CONFIG_FILENAMES, ConfigError, RepoConfig, parse_config
from handlers.context import Context
from handlers.projects import upsert_project
from store.db import transaction
from store.projects import project_of_app
from store.upserts import get_or_create_installation


@dataclass(frozen=True, slots=True)
class ProjectRef:
    """A project as handlers use it, detached from any session."""

    id: int
    name: str
    repo: str
    default_branch: str
    app: str = DEFAULT_APP  # the monorepo app, "" for a one-app repository


async def project_for(ctx: Context, app: str = DEFAULT_APP) -> ProjectRef | None:
    """The delivery's project (of one app of a monorepo); made on first sight, None for archived
    or repository-less ones."""
    repo = ctx.repository
    if repo is None or "id" not in repo:
        return None
    async with transaction(ctx.sessions) as tx:
        project = await project_of_app(tx, repo["id"], app)
        if project is None:
            if ctx.installation_id is None:
                return None
            # the installation event was missed (or predates AutoStack): adopt the repository
            owner = (repo.get("owner") or {}).get("login", "")
            await get_or_create_installation(tx, ctx.installation_id, owner)
            project = await upsert_project(tx, repo, ctx.installation_id, app)
        if project.archived_at is not None:
            ctx.log.info("project %s is archived; %s ignored", project.name, ctx.key)
            return None
        return ProjectRef(
            project.id,
            project.name,
            project.full_name or repo.get("full_name", ""),
            repo.get("default_branch") or project.default_branch,
            project.app,
        )


async def repository_config(ctx: Context, project: ProjectRef) -> RepoConfig:
    """`autostack.yml` as on the default branch (never a PR head: it decides what deploys).

    One call lists the root's files; the file itself is read by its blob sha, which names
    its content, so a config already read is never fetched again. A missing file gives the
    defaults; a broken one is logged and gives the defaults too, and the deployment itself
    then fails naming the bad key.
    """
    return await read_config(ctx, project.repo, project.default_branch)


async def read_config(ctx: Context, repo: str, branch: str | None = None) -> RepoConfig:
    """`autostack.yml` of `repo` (owner/name) on its default branch, as `repository_config`."""
    found = await valid_config(ctx, repo, branch)
    return found if found is not None else RepoConfig()


async def valid_config(ctx: Context, repo: str, branch: str | None = None) -> RepoConfig | None:
    """`autostack.yml` of `repo` on its default branch (the defaults when there is none); None
    when it is invalid or GitHub is out of reach, where the defaults would only be a guess."""
    if ctx.github is None:
        return None
    files = await ctx.github.root_files(repo, branch or _default_ref(ctx, repo))
    filename = next((name for name in CONFIG_FILENAMES if name in files), None)
    if filename is None:
        return RepoConfig()
    key = (repo, files[filename])
    text = _blobs.get(key)
    if text is None:
        text = await ctx.github.blob_text(*key)
        if text is None:
            ctx.log.warning("%s of %s is not text, using defaults", filename, repo)
            return None
        _blobs.put(key, text)
    try:
        return parse_config(text, filename=filename)
    except ConfigError as exc:
        ctx.log.warning("%s of %s is invalid, using defaults: %s", filename, repo, exc)
        return None


def _default_ref(ctx: Context, repo: str) -> str:
    # the delivery's repository names its default branch; GitHub resolves HEAD to it otherwise
    own = ctx.repository or {}
    if own.get("full_name") == repo and own.get("default_branch"):
        return str(own["default_branch"])
    return "HEAD"


class BlobTexts:
    """The texts of the last `size` config blobs read, by (repository, blob sha): a sha names
    its content, so an entry is never stale."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._texts: OrderedDict[tuple[str, str], str] = OrderedDict()

    def get(self, key: tuple[str, str]) -> str | None:
        """The text, when it was read before."""
        text = self._texts.get(key)
        if text is not None:
            self._texts.move_to_end(key)
        return text

    def put(self, key: tuple[str, str], text: str) -> None:
        """Remember a text read, forgetting the least recently used past `size`."""
        self._texts[key] = text
        self._texts.move_to_end(key)
        while len(self._texts) > self._size:
            self._texts.popitem(last=False)


_blobs = BlobTexts()
