"""Warm builds on the local target start from what earlier builds left: `.next/cache`, `target/`,
and the package managers' download caches."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from deployer.dependency_caches import caches_used
from deployer.plan import Plan
from deployer.targets.local.cache import kept_dir, restore_folders, save_folders
from deployer.targets.local.package_caches import cache_env, describe

APPS = Path(__file__).resolve().parents[1] / "fixtures" / "apps"


def _plan(runtime: str, install: str | None = None, build: str | None = None) -> Plan:
    return Plan(runtime, runtime, "", ".", install, build, None, None, 8080, "/", 60, 1)


@pytest.mark.parametrize(
    ("runtime", "install", "build", "expected"),
    [
        ("node", "npm ci", "npm run build", ["npm"]),
        ("node", "YARN_NODE_LINKER=node-modules yarn install --immutable", "yarn run build", ["yarn"]),
        ("node", "pnpm install --frozen-lockfile", None, ["pnpm"]),
        ("node", "bun install", "bun run build", ["bun"]),
        ("python", "pip install -r requirements.txt && python -m pip install gunicorn", None, ["pip"]),
        ("python", "uv sync --frozen && uv pip install gunicorn", None, ["uv"]),
        ("python", "poetry install --no-root", None, ["poetry"]),
        ("go", "go mod download", "go build -o app .", ["go"]),
        ("rust", "cargo fetch --locked", "cargo build --release --locked", ["cargo"]),
        ("java", "mvn -B -q dependency:go-offline", "mvn -B -DskipTests package", ["maven"]),
        ("java", None, "./gradlew --no-daemon bootJar -x test", ["gradle"]),
        ("static", None, None, []),
    ],
)
def test_caches_used_by_each_package_manager(runtime, install, build, expected):
    plan = _plan(runtime, install, build)
    assert caches_used(plan) == expected


def test_cache_env_points_every_tool_under_the_cache_root(tmp_path):
    env = cache_env(tmp_path)
    assert env["npm_config_cache"] == str(tmp_path / "npm")
    assert env["PIP_CACHE_DIR"] == str(tmp_path / "pip")
    assert env["GOMODCACHE"] == str(tmp_path / "go" / "mod")
    assert env["MAVEN_OPTS"] == f"-Dmaven.repo.local={tmp_path / 'maven'}"
    assert all(value.startswith(str(tmp_path)) or "maven" in key.lower() for key, value in env.items())


def test_describe_tells_a_filled_cache_from_an_empty_one(tmp_path):
    plan = _plan("node", "npm ci", "npm run build")
    assert describe(tmp_path, plan) == "package cache empty, filled by this build: npm"
    (tmp_path / "npm" / "_cacache").mkdir(parents=True)
    assert describe(tmp_path, plan) == "package cache restored from earlier builds: npm"
    assert describe(tmp_path, _plan("static")) is None


def test_a_preview_starts_from_productions_folder_but_never_writes_it(tmp_path):
    root = tmp_path / "kept"
    production, preview = kept_dir(root, "web", "production"), kept_dir(root, "web", "pr-7")
    first = tmp_path / "b1" / "app"
    (first / ".next" / "cache").mkdir(parents=True)
    (first / ".next" / "cache" / "entry").write_text("production")
    save_folders(first, production, (".next/cache",))

    fork = tmp_path / "b2" / "app"
    assert restore_folders(preview, fork, (".next/cache",), seed=production) == [(".next/cache", True)]
    (fork / ".next" / "cache" / "entry").write_text("poisoned by a fork")
    save_folders(fork, preview, (".next/cache",))

    again = tmp_path / "b3" / "app"
    assert restore_folders(production, again, (".next/cache",)) == [(".next/cache", False)]
    assert (again / ".next" / "cache" / "entry").read_text() == "production"


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def _app_dir(deployer, project: str, deployment_id: int) -> Path:
    return deployer.target.builder.builds_dir / project / str(deployment_id) / "app"


@pytest.mark.slow
async def test_nextjs_warm_deploy_reuses_next_cache_and_node_modules(deployer, sink, tmp_path):
    folder = shutil.copytree(
        APPS / "nextjs", tmp_path / "next", ignore=shutil.ignore_patterns("node_modules", ".next")
    )
    first = await deployer.deploy(folder, project="next-warm")
    assert first.state == "ready", (first.reason, sink.log(first.id)[-3000:])
    assert first.framework == "nextjs"
    cold_cache = _digests(_app_dir(deployer, "next-warm", first.id) / ".next" / "cache")
    assert cold_cache, "the cold build left nothing in .next/cache"

    page = folder / "app" / "page.js"
    page.write_text(page.read_text().replace("Hello from Next.js", "Hello again from Next.js"))
    second = await deployer.deploy(folder, project="next-warm")

    assert second.state == "ready", (second.reason, sink.log(second.id)[-3000:])
    log = sink.log(second.id)
    assert "kept from the previous build: .next/cache" in log
    assert re.search(r"dependencies from cache \(.*package-lock\.json unchanged.*install skipped", log)
    assert "package cache restored from earlier builds: npm" in log
    warm_cache = _digests(_app_dir(deployer, "next-warm", second.id) / ".next" / "cache")
    # the compiler's own cache entries written by the cold build are there, byte for byte
    unchanged = {name for name, digest in cold_cache.items() if warm_cache.get(name) == digest}
    assert any("turbopack" in name or "webpack" in name for name in unchanged), sorted(unchanged)
    assert "Hello again from Next.js" in (await deployer.get("next-warm")).text


@pytest.mark.slow
async def test_a_warm_go_build_compiles_from_the_kept_build_cache(deployer, sink, tmp_path, cache_dir):
    folder = shutil.copytree(APPS / "go-http", tmp_path / "go")
    first = await deployer.deploy(folder, project="go-warm")
    assert first.state == "ready", (first.reason, sink.log(first.id)[-2000:])
    # go's own marker of its build cache, in the folder AutoStack keeps
    assert "Go build system" in (cache_dir / "packages" / "go" / "build" / "README").read_text()

    main = folder / "main.go"
    main.write_text(main.read_text().replace("Hello from Go", "Hello again from Go"))
    second = await deployer.deploy(folder, project="go-warm")

    assert second.state == "ready", second.reason
    assert "package cache restored from earlier builds: go" in sink.log(second.id)
    assert (await deployer.get("go-warm")).text == "Hello again from Go"


@pytest.mark.slow
async def test_a_new_preview_starts_from_productions_build_folders(deployer, sink, tmp_path):
    folder = shutil.copytree(APPS / "rust-std", tmp_path / "rust", ignore=shutil.ignore_patterns("target"))
    production = await deployer.deploy(folder, project="rust-seed")
    assert production.state == "ready", production.reason

    preview = await deployer.deploy(folder, project="rust-seed", env="pr-3")

    assert preview.state == "ready", preview.reason
    assert "kept from production's last build: target" in sink.log(preview.id)
    again = await deployer.deploy(folder, project="rust-seed")
    assert "kept from the previous build: target" in sink.log(again.id)
