"""The Dockerfile AutoStack writes for a repository that has none, per detected runtime (pure).

Each is multi-stage: lockfiles are copied before the source so that an unchanged lockfile reuses
the dependency layer from the registry cache, and the runtime stage is slim and runs as uid 10001.
Base images carry the runtime version the repository asks for (.python-version, .nvmrc, go.mod, …).
Plain variables arrive as build arguments: the project's own are declared before the install step,
the per-commit AUTOSTACK_* ones only before the build step, so a new commit does not invalidate the
dependency layer. Secrets are mounted into the install and build steps alone, as BuildKit secrets
(`RUN --mount=type=secret,env=`), so no layer, argument or image history holds them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass

from deployer.plan import Plan
from deployer.targets.base import TargetError
from deployer.targets.kubernetes.package_mounts import package_caches as _package_caches
from deployer.versions import Version, image_tag, requirement

GENERATED_NAME = "Dockerfile.autostack"
_USER = "USER 10001:10001"
_KNOWN: dict[str, list[Version]] = {
    "python": [(3, minor) for minor in range(9, 14)],
    "node": [(18,), (20,), (22,), (24,)],
    "java": [(17,), (21,)],
}
_DEFAULT = {"python": (3, 12), "node": (22,), "go": (1, 26), "rust": (1,), "java": (21,)}
_PYTHON_TOOLS = {"uv": "uv", "poetry": "poetry", "pipenv": "pipenv"}
# a server is told the address through $PORT; this maps a Procfile command to an image with it
_SHELL_IMAGES = (
    (r"python|gunicorn|uvicorn|hypercorn|daphne|granian|flask|django", "python:3.12-slim"),
    (r"node|npm|npx|yarn|pnpm", "node:22-slim"),
    (r"java", "eclipse-temurin:21-jre"),
    (r"ruby|bundle|rails|puma|rackup", "ruby:3.3-slim"),
    (r"php", "php:8.3-cli"),
)
_SPA_NGINX = (
    "server {",
    "  listen 8080;",
    "  root /usr/share/nginx/html;",
    "  location / { try_files $uri $uri/ /index.html; add_header Cache-Control no-cache; }",
    "  location ~ \\.[A-Za-z0-9]+$ { try_files $uri =404; }",
    '  location /assets/ { expires 1y; add_header Cache-Control "public, immutable"; }',
    "}",
)


@dataclass(frozen=True, slots=True)
class BuildInputs:
    """The variables a generated Dockerfile hands to its install and build steps, by name."""

    args: tuple[str, ...] = ()  # plain variables, passed as build arguments
    secrets: tuple[str, ...] = ()  # secret ids, passed as BuildKit secrets

    def early(self) -> str:
        """The ARG line for the steps that install dependencies."""
        names = [n for n in self.args if not n.startswith(_BUILTIN_PREFIX)]
        return f"ARG {' '.join(names)}" if names else ""

    def late(self) -> str:
        """The ARG line of the per-commit built-ins, just before the build step."""
        names = [n for n in self.args if n.startswith(_BUILTIN_PREFIX)]
        return f"ARG {' '.join(names)}" if names else ""

    def mounts(self) -> str:
        """The RUN flags that expose each secret as an env var to that one step."""
        return "".join(f"--mount=type=secret,id={n},env={n} " for n in self.secrets)


_BUILTIN_PREFIX = "AUTOSTACK_"
_NONE = BuildInputs()


def _cmd(start: str) -> str:
    # detection starts servers on 127.0.0.1 for the local target; in a pod they must listen on
    # every interface so the Service can reach them
    return 'CMD ["sh", "-c", ' + _quote("exec " + start.replace("127.0.0.1", "0.0.0.0")) + "]"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _copy_locks(plan: Plan) -> str:
    return f"COPY {' '.join(plan.lockfiles)} ./" if plan.lockfiles else ""


def _tag(plan: Plan) -> str:
    wanted = requirement(plan.runtime, plan.version, plan.version_source)
    return image_tag(wanted, _KNOWN.get(plan.runtime, []), _DEFAULT[plan.runtime])


def workers(cpu: str | None) -> int:
    """Server workers for a container with `cpu` (a Kubernetes quantity): 2 x CPUs + 1, capped at 8."""
    cores = 1.0
    if cpu:
        cores = float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    return min(2 * max(1, math.ceil(cores)) + 1, 8)


def _cached(plan: Plan, workdir: str, command: str, inputs: BuildInputs) -> str:
    mounts = "".join(f"--mount=type=cache,target={workdir}/{folder} " for folder in plan.build_cache)
    return f"RUN {inputs.mounts()}{mounts}{command}"


def _install(plan: Plan, inputs: BuildInputs, cache: str = "") -> list[str]:
    """The install step with the project's build arguments and secrets (nothing when none)."""
    if not plan.install:
        return []
    return [inputs.early(), f"RUN {inputs.mounts()}{cache}{plan.install}"]


def _build(plan: Plan, inputs: BuildInputs, cache: str = "", again: bool = False) -> list[str]:
    """The build step; `again` redeclares the project's arguments in a stage of its own."""
    if not plan.build:
        return []
    return [inputs.early() if again else "", inputs.late(), f"RUN {inputs.mounts()}{cache}{plan.build}"]


def _node(plan: Plan, inputs: BuildInputs) -> list[str]:
    tag = _tag(plan)
    tool = next((w for w in (plan.install or "").split() if "=" not in w), "")
    setup = {"yarn": "RUN corepack enable", "pnpm": "RUN corepack enable", "bun": "RUN npm install -g bun"}
    manager = setup.get(tool, "")
    caches = _package_caches(plan)
    deps = [
        f"FROM node:{tag}-slim AS deps",
        manager,
        "WORKDIR /app",
        caches.env(),
        _copy_locks(plan),
        *_install(plan, inputs, caches.mounts()),
    ]
    build = [inputs.late(), _cached(plan, "/app", plan.build, inputs)] if plan.build else []
    if plan.static_dir and not plan.start:
        return [*deps, "COPY . .", *build, *_static(f"/app/{plan.static_dir}", "--from=deps ", spa=True)]
    return [
        *deps,
        "FROM deps AS build",
        "COPY . .",
        *([inputs.early(), *build] if build else []),
        f"FROM node:{tag}-slim",
        manager,
        "WORKDIR /app",
        "ENV NODE_ENV=production PATH=/app/node_modules/.bin:$PATH",
        "COPY --from=build --chown=10001:10001 /app /app",
        _USER,
        _cmd(plan.start or "npm start"),
    ]


def _python(plan: Plan, inputs: BuildInputs) -> list[str]:
    tag = _tag(plan)
    tool = next((t for w in (plan.install or "").split() if (t := _PYTHON_TOOLS.get(w))), None)
    caches = _package_caches(plan)
    return [
        f"FROM python:{tag}-slim AS deps",
        "ENV PIP_DISABLE_PIP_VERSION_CHECK=1",
        f"RUN pip install {tool}" if tool else "",
        "RUN python -m venv /venv",
        "ENV PATH=/venv/bin:$PATH VIRTUAL_ENV=/venv UV_PROJECT_ENVIRONMENT=/venv",
        caches.env(),
        "WORKDIR /app",
        _copy_locks(plan),
        *_install(plan, inputs, caches.mounts()),
        f"FROM python:{tag}-slim",
        f"ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 WEB_CONCURRENCY={workers(plan.resources.get('cpu'))}",
        "WORKDIR /app",
        "COPY --from=deps /venv /venv",
        "COPY --chown=10001:10001 . .",
        *_build(plan, inputs, again=True),
        _USER,
        _cmd(plan.start or "python app.py"),
    ]


def _go(plan: Plan, inputs: BuildInputs) -> list[str]:
    caches = _package_caches(plan)
    return [
        f"FROM golang:{_tag(plan)} AS build",
        "WORKDIR /src",
        caches.env(),
        _copy_locks(plan),
        *_install(plan, inputs, caches.mounts()),
        "COPY . .",
        inputs.late(),
        f"RUN {inputs.mounts()}{caches.mounts()}CGO_ENABLED=0 go build -o /out/app .",
        "FROM gcr.io/distroless/static-debian12:nonroot",
        "COPY --from=build /out/app /app",
        _USER,
        'CMD ["/app"]',
    ]


def _rust(plan: Plan, inputs: BuildInputs) -> list[str]:
    tag = _tag(plan)
    # the binary leaves the cache-mounted target/ within the same step, at the path start names
    return [
        f"FROM rust:{tag}-slim AS build",
        "WORKDIR /app",
        "COPY . .",
        inputs.early(),
        inputs.late(),
        f"RUN {inputs.mounts()}--mount=type=cache,target=/usr/local/cargo/registry "
        f"--mount=type=cache,target=/app/target {plan.build} && mkdir -p /out"
        " && find target/release -maxdepth 1 -type f -perm -u+x -exec cp {} /out/ \\;",
        "FROM debian:bookworm-slim",
        "WORKDIR /app",
        "COPY --from=build /out/ /app/target/release/",
        _USER,
        _cmd(plan.start or "./target/release/app"),
    ]


def _java(plan: Plan, inputs: BuildInputs) -> list[str]:
    tag = _tag(plan)
    gradle = "gradle" in (plan.build or "")
    image = f"gradle:8-jdk{tag}" if gradle else f"maven:3-eclipse-temurin-{tag}"
    cache = "/home/gradle/.gradle" if gradle else "/root/.m2"
    output = "build/libs" if gradle else "target"
    return [
        f"FROM {image} AS build",
        "WORKDIR /app",
        "COPY . .",
        *_install(plan, inputs, f"--mount=type=cache,target={cache} "),
        *_build(plan, inputs, f"--mount=type=cache,target={cache} "),
        f"FROM eclipse-temurin:{tag}-jre",
        "WORKDIR /app",
        f"COPY --from=build /app/{output}/*.jar /app/{output}/",
        _USER,
        _cmd(plan.start or f"java -jar {output}/*.jar"),
    ]


def _shell(plan: Plan, inputs: BuildInputs) -> list[str]:
    start = plan.start or ""
    first = next((w for w in start.split() if "=" not in w), "")
    image = next(
        (img for pattern, img in _SHELL_IMAGES if re.fullmatch(pattern, first)), "debian:bookworm-slim"
    )
    return [
        f"FROM {image}",
        "WORKDIR /app",
        "COPY --chown=10001:10001 . .",
        *_install(plan, inputs),
        *_build(plan, inputs),
        _USER,
        _cmd(start),
    ]


def _static(folder: str, source: str = "", spa: bool = False) -> list[str]:
    config = []
    if spa:
        lines = " ".join(f"'{line}'" for line in _SPA_NGINX)
        config = [f"RUN printf '%s\\n' {lines} > /etc/nginx/conf.d/default.conf"]
    return [
        "FROM nginxinc/nginx-unprivileged:1.27-alpine",
        *config,
        f"COPY {source}--chown=10001:10001 {folder} /usr/share/nginx/html",
        _USER,
    ]


_BUILDERS = {"node": _node, "python": _python, "go": _go, "rust": _rust, "java": _java, "shell": _shell}


def generate(plan: Plan, args: Collection[str] = (), secrets: Collection[str] = ()) -> str:
    """The Dockerfile text for `plan`, its install and build steps given the build arguments
    `args` and the BuildKit secrets `secrets` (names); TargetError when the runtime has none."""
    inputs = BuildInputs(tuple(sorted(args)), tuple(sorted(secrets))) if args or secrets else _NONE
    if plan.runtime == "static":
        lines = _static(plan.static_dir or ".")
    elif builder := _BUILDERS.get(plan.runtime):
        lines = builder(plan, inputs)
    else:
        raise TargetError(f"no Dockerfile can be generated for a {plan.runtime} app; add a Dockerfile")
    return "\n".join(line for line in lines if line) + "\n"
