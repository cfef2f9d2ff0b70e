"""Monorepo apps: which apps a change deploys, and the config each app deploys with (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from deployer.config import CONFIG_FILENAMES, AppConfig, BuildConfig, ConfigError, RepoConfig
from deployer.path_filters import PathFilter

# The app name of a repository without `apps:` (and of every project made before apps existed).
DEFAULT_APP = ""


@dataclass(frozen=True, slots=True)
class ChangedFiles:
    """The files a push or pull request changed, as far as GitHub lists them.

    `complete` is False when GitHub's list was cut short (or could not be had); `why` says so."""

    paths: tuple[str, ...]
    complete: bool = True
    why: str = ""


@dataclass(frozen=True, slots=True)
class AppChoice:
    """Whether one app deploys for a change, and why (shown in logs and the PR comment)."""

    app: str
    deploy: bool
    reason: str


def app_names(config: RepoConfig) -> tuple[str, ...]:
    """The apps of a repository: those `apps:` lists, else the one default app."""
    return tuple(app.name for app in config.apps) or (DEFAULT_APP,)


def path_filter(app: AppConfig) -> PathFilter:
    """The app's `paths:`, or everything below its root when it lists none."""
    if app.paths:
        return PathFilter.of(app.paths)
    return PathFilter.of(["**" if app.root == "." else f"{app.root}/**"])


def choose_apps(config: RepoConfig, changed: ChangedFiles) -> tuple[AppChoice, ...]:
    """For each app, whether `changed` deploys it: any of its paths changed, or every app when
    the list is incomplete or autostack.yml itself changed."""
    if not config.apps:
        return (AppChoice(DEFAULT_APP, True, "the repository is one app"),)
    if not changed.complete:
        return tuple(AppChoice(app.name, True, changed.why) for app in config.apps)
    touched_config = next((p for p in changed.paths if p in CONFIG_FILENAMES), None)
    if touched_config is not None:
        return tuple(AppChoice(app.name, True, f"{touched_config} changed") for app in config.apps)
    choices = []
    for app in config.apps:
        hit = path_filter(app).first_match(changed.paths)
        reason = f"{hit} changed" if hit else "no changes in " + ", ".join(path_filter(app).include)
        choices.append(AppChoice(app.name, hit is not None, reason))
    return tuple(choices)


def config_for_app(config: RepoConfig, app: str) -> RepoConfig:
    """What one app deploys with: its own root, build, run, release, env and domains over the
    repository's; the default app gets the file as it is. ConfigError when the app is gone."""
    if app == DEFAULT_APP:
        return config
    found = next((a for a in config.apps if a.name == app), None)
    if found is None:
        listed = ", ".join(a.name for a in config.apps) or "none"
        raise ConfigError(f"autostack.yml has no app named {app!r} any more (apps: {listed})")
    return config.model_copy(
        update={
            "build": BuildConfig(root=found.root, **found.build.model_dump()),
            "run": found.run or config.run,
            "release": found.release or config.release,
            "env": {**config.env, **found.env},
            "domains": list(found.domains),
            "apps": [],
        }
    )
