"""Monorepo apps: `apps:` validation, path globs and which apps a change deploys (tables)."""

from __future__ import annotations

import pytest

from deployer.apps import ChangedFiles, choose_apps, config_for_app
from deployer.config import ConfigError, parse_config
from deployer.path_filters import GlobError, PathFilter, check_glob

APPS = "apps:\n  - {name: web, root: web}\n  - {name: api, root: api, paths: [api/**, shared/**, '!api/docs/']}\n"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("apps: [{name: web, root: web}, {name: web, root: api}]", "two apps are named 'web'"),
        ("apps: [{name: web, root: ../elsewhere}]", "apps.0.root: '../elsewhere' is outside the repository"),
        ("apps: [{name: web, root: /srv/web}]", "'/srv/web' is outside the repository"),
        ("apps: [{name: web, root: web, paths: ['web**']}]", "apps.0.paths.0: 'web**': ** must be a whole"),
        ("apps: [{name: web, root: web, paths: ['web/[ab']}]", "never closed"),
        ("apps: [{name: web, root: web, paths: ['']}]", "an empty pattern matches nothing"),
        (
            "apps: [{name: web, root: web, colour: red}]",
            "unknown key 'apps.0.colour'; allowed here: name, root",
        ),
        ("apps: [{name: Web_1, root: web}]", 'apps.0.name: "Web_1" is not allowed'),
        ("apps: [{name: web}]", "apps.0.root is required"),
        ("domains: [a.example.com]\napps: [{name: web, root: web}]", "list domains under the app"),
        ("build: {start: x}\napps: [{name: web, root: web}]", "remove the top-level build"),
    ],
)
def test_bad_apps_are_refused_naming_what_is_wrong(text: str, error: str):
    with pytest.raises(ConfigError, match=r"^autostack\.yml: ") as raised:
        parse_config(text)
    assert error in str(raised.value)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("api/**", "api/index.html", True),
        ("api/**", "api/src/deep/x.py", True),
        ("api/**", "apis/x.py", False),
        ("api/", "api/a/b", True),
        ("**/*.md", "README.md", True),
        ("**/*.md", "docs/a/b.md", True),
        ("*.md", "docs/b.md", False),
        ("web/?.js", "web/a.js", True),
        ("web/?.js", "web/ab.js", False),
        ("web/[!x]*", "web/abc", True),
        ("web/[!x]*", "web/xyz", False),
        ("package.json", "web/package.json", False),
    ],
)
def test_globs_match_like_the_docs_say(pattern: str, path: str, matches: bool):
    assert PathFilter.of([pattern]).matches(path) is matches


@pytest.mark.parametrize("pattern", ["/api/**", "api/../web", "a\\b", "x/**y", "[]"])
def test_unusable_globs_are_errors(pattern: str):
    with pytest.raises(GlobError):
        check_glob(pattern)


def test_an_excluded_path_does_not_deploy():
    assert not PathFilter.of(["api/**", "!api/docs/"]).matches("api/docs/guide.md")


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (ChangedFiles(("api/main.py",)), {"web": False, "api": True}),
        (ChangedFiles(("web/index.html", "shared/x.css")), {"web": True, "api": True}),
        (ChangedFiles(("api/docs/readme.md",)), {"web": False, "api": False}),
        (ChangedFiles(("README.md",)), {"web": False, "api": False}),
        (ChangedFiles(("autostack.yml",)), {"web": True, "api": True}),
        (ChangedFiles((), complete=False, why="too many files"), {"web": True, "api": True}),
    ],
)
def test_only_apps_whose_paths_changed_deploy(changed: ChangedFiles, expected: dict[str, bool]):
    choices = choose_apps(parse_config(APPS), changed)
    assert {c.app: c.deploy for c in choices} == expected


def test_why_each_app_deploys_or_not():
    choices = choose_apps(parse_config(APPS), ChangedFiles(("api/main.py",)))
    assert [(c.app, c.reason) for c in choices] == [
        ("web", "no changes in web/**"),
        ("api", "api/main.py changed"),
    ]
    [everything] = choose_apps(parse_config(APPS), ChangedFiles((), complete=False, why="cut short"))[:1]
    assert everything.reason == "cut short"


def test_a_repository_without_apps_always_deploys_its_one_app():
    [choice] = choose_apps(parse_config(""), ChangedFiles(()))
    assert (choice.app, choice.deploy) == ("", True)


def test_an_app_deploys_with_its_own_root_run_and_env_over_the_top_level():
    config = parse_config(
        "env: {A: top, B: top}\nrun: {port: 3000}\n"
        "apps:\n  - {name: api, root: ./api/, env: {B: api}, domains: [api.example.com]}\n"
    )
    app = config_for_app(config, "api")
    assert (app.build.root, app.run.port, app.env, app.domains, app.apps) == (
        "api",
        3000,
        {"A": "top", "B": "api"},
        ["api.example.com"],
        [],
    )
    assert config_for_app(config, "") is config
    with pytest.raises(ConfigError, match="no app named 'web' any more"):
        config_for_app(config, "web")
