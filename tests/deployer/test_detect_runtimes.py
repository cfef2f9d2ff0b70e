"""Runtime versions, package managers, Rust/Java stacks, and the Dockerfile each gets (pure)."""

from __future__ import annotations

import json

import pytest

from deployer.config import parse_config
from deployer.detect import detect
from deployer.plan import make_plan
from deployer.targets.base import TargetError
from deployer.targets.kubernetes import dockerfile
from deployer.targets.local import toolchains
from deployer.versions import ranged


def _tree(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


FLASK = {"requirements.txt": "flask\ngunicorn\n", "app.py": "app = Flask(__name__)"}
NEXT = {"package.json": json.dumps({"dependencies": {"next": "15"}, "scripts": {"build": "next build"}})}

# (id, files, version, source, image line)
VERSIONS = [
    (
        "python-version",
        {**FLASK, ".python-version": "3.12\n"},
        "3.12",
        ".python-version",
        "FROM python:3.12-slim",
    ),
    (
        "runtime-txt",
        {**FLASK, "runtime.txt": "python-3.12.1\n"},
        "3.12.1",
        "runtime.txt",
        "FROM python:3.12.1-slim",
    ),
    (
        "requires-python",
        {"pyproject.toml": '[project]\nrequires-python=">=3.10,<3.12"\ndependencies=["flask"]\n'},
        ">=3.10,<3.12",
        "pyproject.toml requires-python",
        "FROM python:3.11-slim",
    ),
    (
        "pipfile",
        {"Pipfile": '[packages]\nflask="*"\n[requires]\npython_version="3.10"\n', "Pipfile.lock": "{}"},
        "3.10",
        "Pipfile",
        "FROM python:3.10-slim",
    ),
    ("nvmrc", {**NEXT, ".nvmrc": "v20.11.1\n"}, "20.11.1", ".nvmrc", "FROM node:20.11.1-slim"),
    ("nvmrc-lts", {**NEXT, ".nvmrc": "lts/iron\n"}, "20", ".nvmrc", "FROM node:20-slim"),
    ("node-version", {**NEXT, ".node-version": "18\n"}, "18", ".node-version", "FROM node:18-slim"),
    (
        "engines",
        {"package.json": json.dumps({"engines": {"node": ">=18 <21"}, "scripts": {"start": "node s.js"}})},
        ">=18 <21",
        "package.json engines.node",
        "FROM node:20-slim",
    ),
    ("go-mod", {"go.mod": "module x\n\ngo 1.22.3\n"}, "1.22.3", "go.mod", "FROM golang:1.22.3 AS build"),
    (
        "rust-toolchain",
        {"Cargo.toml": '[package]\nname="srv"\n', "rust-toolchain": "1.78.0\n"},
        "1.78.0",
        "rust-toolchain",
        "FROM rust:1.78.0-slim AS build",
    ),
    (
        "rust-toolchain-toml",
        {"Cargo.toml": '[package]\nname="srv"\n', "rust-toolchain.toml": '[toolchain]\nchannel = "stable"\n'},
        "stable",
        "rust-toolchain.toml",
        "FROM rust:1-slim AS build",
    ),
    (
        "pom-java-version",
        {"pom.xml": "<project><properties><java.version>17</java.version></properties>spring-boot</project>"},
        "17",
        "pom.xml java.version",
        "FROM maven:3-eclipse-temurin-17 AS build",
    ),
]


@pytest.mark.parametrize(
    ("files", "version", "source", "image"), [c[1:] for c in VERSIONS], ids=[c[0] for c in VERSIONS]
)
def test_runtime_version_is_recorded_and_picks_the_base_image(tmp_path, files, version, source, image):
    found = detect(_tree(tmp_path, files))

    assert (found.version, found.version_source) == (version, source)
    assert image in dockerfile.generate(make_plan(parse_config(""), found)).splitlines()


# (id, files, install, lockfiles, dockerfile line)
MANAGERS = [
    (
        "npm-ci",
        {"package-lock.json": "{}"},
        "npm ci --no-audit --no-fund",
        ("package.json", "package-lock.json"),
        None,
    ),
    (
        "yarn-classic",
        {"yarn.lock": "# yarn lockfile v1\n"},
        "yarn install --frozen-lockfile",
        ("package.json", "yarn.lock"),
        "RUN corepack enable",
    ),
    (
        "yarn-berry-yarnrc",
        {"yarn.lock": "__metadata:\n", ".yarnrc.yml": "nodeLinker: pnp\n"},
        "YARN_NODE_LINKER=node-modules YARN_ENABLE_GLOBAL_CACHE=false yarn install --immutable",
        ("package.json", "yarn.lock", ".yarnrc.yml"),
        "RUN corepack enable",
    ),
    (
        "pnpm",
        {"pnpm-lock.yaml": "lockfileVersion: 9\n"},
        "pnpm install --frozen-lockfile",
        ("package.json", "pnpm-lock.yaml"),
        "RUN corepack enable",
    ),
    (
        "bun-lockb",
        {"bun.lockb": ""},
        "bun install --frozen-lockfile",
        ("package.json", "bun.lockb"),
        "RUN npm install -g bun",
    ),
    (
        "bun-lock",
        {"bun.lock": "{}"},
        "bun install --frozen-lockfile",
        ("package.json", "bun.lock"),
        "RUN npm install -g bun",
    ),
]


@pytest.mark.parametrize(
    ("files", "install", "locks", "line"), [c[1:] for c in MANAGERS], ids=[c[0] for c in MANAGERS]
)
def test_node_package_managers_install_frozen(tmp_path, files, install, locks, line):
    pkg = {"scripts": {"start": "node s.js"}}
    found = detect(_tree(tmp_path, {"package.json": json.dumps(pkg), **files}))

    assert (found.install, found.lockfiles) == (install, locks)
    text = dockerfile.generate(make_plan(parse_config(""), found))
    assert f"COPY {' '.join(locks)} ./" in text
    if line:
        assert line in text


def test_package_manager_field_wins_over_lockfiles(tmp_path):
    pkg = {"packageManager": "yarn@4.1.0", "scripts": {"start": "yarn node s.js"}}
    found = detect(_tree(tmp_path, {"package.json": json.dumps(pkg), "yarn.lock": "# v1\n"}))

    assert found.install.endswith("yarn install --immutable")
    assert found.start == "yarn start"
    assert "yarn berry (packageManager in package.json)" in found.reason


PY_MANAGERS = [
    (
        "uv",
        {"uv.lock": "", "pyproject.toml": '[project]\ndependencies=["flask","gunicorn"]\n'},
        "uv sync --frozen --no-dev --no-install-project",
        "RUN pip install uv",
    ),
    (
        "poetry",
        {"poetry.lock": "", "pyproject.toml": '[tool.poetry.dependencies]\nflask="*"\ngunicorn="*"\n'},
        "poetry install --no-root --only main --no-interaction",
        "RUN pip install poetry",
    ),
    (
        "pipenv",
        {"Pipfile": '[packages]\nflask="*"\ngunicorn="*"\n', "Pipfile.lock": "{}"},
        "pipenv install --deploy",
        "RUN pip install pipenv",
    ),
    ("pip", FLASK, "pip install -r requirements.txt", None),
]


@pytest.mark.parametrize(
    ("files", "install", "line"), [c[1:] for c in PY_MANAGERS], ids=[c[0] for c in PY_MANAGERS]
)
def test_python_package_managers_install_frozen(tmp_path, files, install, line):
    found = detect(_tree(tmp_path, {"app.py": "app = Flask(__name__)", **files}))

    assert found.install == install
    text = dockerfile.generate(make_plan(parse_config(""), found))
    assert (line in text) if line else "RUN pip install " not in text.split("RUN pip install -r")[0]


STACKS = [
    (
        "rust-bin",
        {"Cargo.toml": '[package]\nname="pkg"\n[[bin]]\nname="web"\npath="src/main.rs"\n', "Cargo.lock": ""},
        ("rust", "cargo fetch --locked", "cargo build --release --locked", "./target/release/web"),
    ),
    (
        "rust-package",
        {"Cargo.toml": '[package]\nname="pkg"\n'},
        ("rust", "cargo fetch", "cargo build --release", "./target/release/pkg"),
    ),
    (
        "maven-wrapper-spring",
        {"pom.xml": "<project>spring-boot-starter-web</project>", "mvnw": ""},
        (
            "spring-boot",
            "./mvnw -B -q dependency:go-offline",
            "./mvnw -B -DskipTests package",
            "java -jar target/*.jar --server.port=$PORT --server.address=127.0.0.1",
        ),
    ),
    (
        "gradle-spring",
        {"build.gradle": "plugins { id 'org.springframework.boot' version '3.3.0' }\n", "gradlew": ""},
        (
            "spring-boot",
            None,
            "./gradlew --no-daemon bootJar -x test",
            'java -jar $(ls build/libs/*.jar | grep -v -- "-plain.jar$" | head -n 1) --server.port=$PORT --server.address=127.0.0.1',
        ),
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in STACKS], ids=[c[0] for c in STACKS])
def test_more_stacks(tmp_path, files, expected):
    found = detect(_tree(tmp_path, files))

    assert (found.framework, found.install, found.build, found.start) == expected
    text = dockerfile.generate(make_plan(parse_config(""), found))
    assert "USER 10001:10001" in text and "127.0.0.1" not in text


def test_generated_images_keep_build_caches_and_size_workers(tmp_path):
    nextjs = make_plan(parse_config(""), detect(_tree(tmp_path / "n", NEXT)))
    flask = make_plan(
        parse_config("run:\n  resources:\n    cpu: 1500m\n"), detect(_tree(tmp_path / "f", FLASK))
    )
    spa = make_plan(
        parse_config(""), detect(_tree(tmp_path / "s", {"package.json": '{"scripts":{"build":"x"}}'}))
    )

    assert "RUN --mount=type=cache,target=/app/.next/cache npm run build" in dockerfile.generate(nextjs)
    assert "WEB_CONCURRENCY=5" in dockerfile.generate(flask)
    assert "try_files $uri $uri/ /index.html" in dockerfile.generate(spa)


def test_missing_interpreter_names_what_was_asked_and_what_there_is(tmp_path, monkeypatch):
    plan = make_plan(parse_config(""), detect(_tree(tmp_path, {**FLASK, ".python-version": "3.12\n"})))
    monkeypatch.setattr(
        toolchains, "installed", lambda runtime: [toolchains.Toolchain("/usr/bin/python3", (3, 11, 7))]
    )

    with pytest.raises(TargetError) as error:
        toolchains.choose(plan)

    assert str(error.value) == "this app needs Python >= 3.12 (from .python-version); this machine has 3.11"


@pytest.mark.parametrize(
    ("text", "allowed", "refused"),
    [
        (">=3.10,<3.13", [(3, 10, 0), (3, 12, 9)], [(3, 9, 18), (3, 13, 0)]),
        ("^20.1", [(20, 1, 0), (20, 9, 0)], [(21, 0, 0), (20, 0, 5)]),
        ("18.x", [(18, 20, 1)], [(20, 1, 0)]),
        ("~=3.11", [(3, 11, 0), (3, 13, 0)], [(3, 10, 0)]),
        ("==3.12.*", [(3, 12, 1)], [(3, 13, 0)]),
    ],
)
def test_version_ranges(text, allowed, refused):
    wanted = ranged("python", text, "x")
    assert wanted is not None
    assert all(wanted.allows(v) for v in allowed)
    assert not any(wanted.allows(v) for v in refused)
