"""The Dockerfile AutoStack writes for a repository that has none, per detected runtime (pure).

Each is multi-stage: lockfiles are copied before the source so that an unchanged lockfile reuses
the dependency layer from the registry cache, and the runtime stage is slim and runs as uid 10001.
"""

from __future__ import annotations

from deployer.plan import Plan
from deployer.targets.base import TargetError

GENERATED_NAME = "Dockerfile.autostack"
_USER = "USER 10001:10001"


def _cmd(start: str) -> str:
    # detection starts servers on 127.0.0.1 for the local target; in a pod they must listen on
    # every interface so the Service can reach them
    return 'CMD ["sh", "-c", ' + _quote("exec " + start.replace("127.0.0.1", "0.0.0.0")) + "]"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _copy_locks(plan: Plan) -> str:
    return f"COPY {' '.join(plan.lockfiles)} ./" if plan.lockfiles else ""


def _node(plan: Plan) -> list[str]:
    build = [f"RUN {plan.build}"] if plan.build else []
    if plan.static_dir and not plan.start:
        return [
            "FROM node:22-slim AS build",
            "WORKDIR /app",
            _copy_locks(plan),
            f"RUN {plan.install}",
            "COPY . .",
            *build,
            *_static(f"/app/{plan.static_dir}", "--from=build "),
        ]
    return [
        "FROM node:22-slim AS deps",
        "WORKDIR /app",
        _copy_locks(plan),
        f"RUN {plan.install}",
        "FROM deps AS build",
        "COPY . .",
        *build,
        "FROM node:22-slim",
        "WORKDIR /app",
        "ENV NODE_ENV=production",
        "COPY --from=build --chown=10001:10001 /app /app",
        _USER,
        _cmd(plan.start or "npm start"),
    ]


def _python(plan: Plan) -> list[str]:
    return [
        "FROM python:3.12-slim AS deps",
        "ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
        "RUN python -m venv /venv",
        "ENV PATH=/venv/bin:$PATH",
        "WORKDIR /app",
        _copy_locks(plan),
        f"RUN {plan.install}",
        "FROM python:3.12-slim",
        "ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1",
        "WORKDIR /app",
        "COPY --from=deps /venv /venv",
        "COPY --chown=10001:10001 . .",
        _USER,
        _cmd(plan.start or "python app.py"),
    ]


def _go(plan: Plan) -> list[str]:
    return [
        "FROM golang:1.26 AS build",
        "WORKDIR /src",
        _copy_locks(plan),
        f"RUN {plan.install}",
        "COPY . .",
        "RUN CGO_ENABLED=0 go build -o /out/app .",
        "FROM gcr.io/distroless/static-debian12:nonroot",
        "COPY --from=build /out/app /app",
        _USER,
        'CMD ["/app"]',
    ]


def _static(folder: str, source: str = "") -> list[str]:
    return [
        "FROM nginxinc/nginx-unprivileged:1.27-alpine",
        f"COPY {source}--chown=10001:10001 {folder} /usr/share/nginx/html",
        _USER,
    ]


def generate(plan: Plan) -> str:
    """The Dockerfile text for `plan`; TargetError when the runtime has none."""
    if plan.runtime == "node":
        lines = _node(plan)
    elif plan.runtime == "python":
        lines = _python(plan)
    elif plan.runtime == "go":
        lines = _go(plan)
    elif plan.runtime == "static":
        lines = _static(plan.static_dir or ".")
    else:
        raise TargetError(f"no Dockerfile can be generated for a {plan.runtime} app; add a Dockerfile")
    return "\n".join(line for line in lines if line) + "\n"
