"""The frozen deploy plan: `autostack.yml` merged over detection, with every default filled in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import PurePosixPath
from typing import Any

from deployer.config import ConfigError, RepoConfig, duration_seconds
from deployer.detect import Detection


@dataclass(frozen=True, slots=True)
class Plan:
    """Exactly what a target builds and runs for one deployment."""

    framework: str
    runtime: str
    reason: str
    root: str
    install: str | None
    build: str | None
    start: str | None
    static_dir: str | None
    port: int
    health_path: str
    health_timeout: int
    replicas: int
    lockfiles: tuple[str, ...] = ()
    dockerfile: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    autoscale: dict[str, int] | None = None  # min, max, cpu (kubernetes target)
    resources: dict[str, str] = field(default_factory=dict)  # cpu, memory per replica (kubernetes)
    preview_ttl: int | None = None  # seconds a preview may stay idle before it is destroyed
    version: str | None = None  # runtime version the repository asks for (see deployer.versions)
    version_source: str | None = None
    notes: tuple[str, ...] = ()
    build_cache: tuple[str, ...] = ()
    release: str | None = None  # run once per deployment before traffic switches
    release_source: str | None = None  # autostack.yml or Procfile
    seed: str | None = None  # run once per preview environment

    def snapshot(self) -> dict[str, object]:
        """A JSON-safe copy stored on the deployment, so rollback knows how it ran."""
        data = asdict(self)
        for name in _TUPLES:
            data[name] = list(data[name])
        return data

    @classmethod
    def from_snapshot(cls, data: dict[str, object]) -> Plan:
        """The plan a deployment was built with, read back from its stored snapshot."""
        # the snapshot is what snapshot() stored: each field's value, tuples as lists
        values: dict[str, Any] = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        for name in _TUPLES:
            values[name] = tuple(values.get(name, ()))
        return cls(**values)


_TUPLES = ("lockfiles", "notes", "build_cache")


def safe_root(root: str) -> str:
    """`build.root` as a relative path inside the repository, or ConfigError."""
    path = PurePosixPath(root)
    if path.is_absolute() or ".." in path.parts:
        raise ConfigError(
            f"build.root: {root!r} is not allowed; expected a folder inside the repository such as apps/web"
        )
    return str(path)


def make_plan(config: RepoConfig, detection: Detection) -> Plan:
    """Merge explicit config over detection; config wins key by key."""
    build, run = config.build, config.run
    overridden = [k for k in ("install", "build", "start") if getattr(build, k) is not None]
    reason = detection.reason
    if overridden:
        reason += f" ({', '.join(overridden)} from autostack.yml)"
    start = build.start or detection.start
    return Plan(
        framework=detection.framework if not build.dockerfile else "docker",
        runtime=detection.runtime if not build.dockerfile else "docker",
        reason=reason if not build.dockerfile else f"build.dockerfile is {build.dockerfile}",
        root=safe_root(build.root),
        install=build.install or detection.install,
        build=build.build or detection.build,
        start=start,
        static_dir=None if build.start else detection.static_dir,
        port=run.port or detection.port,
        health_path=run.healthcheck.path,
        health_timeout=run.healthcheck.timeout,
        replicas=run.replicas,
        lockfiles=detection.lockfiles,
        dockerfile=build.dockerfile or ("Dockerfile" if detection.runtime == "docker" else None),
        env={k: _env_text(v) for k, v in config.env.items()},
        autoscale=run.autoscale.model_dump() if run.autoscale else None,
        resources={k: v for k, v in run.resources.model_dump().items() if v},
        preview_ttl=duration_seconds(config.previews.ttl),
        version=detection.version,
        version_source=detection.version_source,
        notes=detection.notes,
        build_cache=detection.build_cache,
        release=config.release or detection.release,
        release_source="autostack.yml" if config.release else ("Procfile" if detection.release else None),
        seed=config.previews.seed,
    )


def _env_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
