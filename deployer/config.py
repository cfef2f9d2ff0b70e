"""`autostack.yml` (docs/product.md §5): raw YAML → strict validated model → errors naming the key.

The pydantic models below are the single declaration of the file's shape: validation, the
error messages and the published JSON Schema (`docs/autostack.schema.json`) all come from them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from deployer.path_filters import check_glob, inside_repo

CONFIG_FILENAMES = ("autostack.yml", "autostack.yaml")
_ENV_KEY = r"^[A-Za-z_][A-Za-z0-9_]*$"
_HOSTNAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_DURATION = r"^[1-9][0-9]*[mhd]$"
_QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Mi|Gi|Ki)?$"
# a GitHub label name is 1-50 characters and may hold spaces, not start or end with one
_APP_NAME = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"
_PREVIEW_WHEN = r"^(always|command|label:\S(.{0,48}\S)?)$"
_AFTER = r"^(build|checks)$"
# what a pattern asks for, in words people read better than the regular expression
_PATTERN_WORDS = {
    _DURATION: "minutes, hours or days like 30m, 72h or 3d",
    _PREVIEW_WHEN: "always, command or label:<name> like label:preview",
    _QUANTITY: "a Kubernetes quantity like 500m, 1, 512Mi or 1Gi",
    _HOSTNAME: "a lower-case hostname like shop.example.com",
    "^/": "a path starting with /",
    _AFTER: "build (live once built) or checks (live once the required checks pass)",
    _APP_NAME: "lower-case letters, digits and dashes like web or api (at most 32)",
}
_DURATION_SECONDS = {"m": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError):
    """`autostack.yml` is not valid; the message names the key, the value and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BuildConfig(_Strict):
    """How to install, build and start the app; anything unset comes from detection."""

    install: str | None = Field(None, description="Command that installs dependencies.")
    build: str | None = Field(None, description="Command that builds the app.")
    start: str | None = Field(None, description="Command that starts the app; it must listen on $PORT.")
    root: str = Field(".", description="Folder of the app inside the repository (monorepos).")
    dockerfile: str | None = Field(None, description="Path of a Dockerfile (kubernetes target only).")


class HealthcheckConfig(_Strict):
    """The HTTP check that must pass before traffic switches to a new version."""

    path: str = Field("/", pattern=r"^/", description="Path answered with 2xx or 3xx when ready.")
    timeout: int = Field(60, ge=1, le=900, description="Seconds to wait for the check to pass.")


class AutoscaleConfig(_Strict):
    """Horizontal autoscaling bounds (kubernetes target)."""

    min: int = Field(1, ge=1, le=100, description="Fewest replicas.")
    max: int = Field(1, ge=1, le=100, description="Most replicas; at least min.")
    cpu: int = Field(80, ge=1, le=100, description="Target CPU utilisation in percent.")

    @model_validator(mode="after")
    def _min_below_max(self) -> AutoscaleConfig:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class ResourcesConfig(_Strict):
    """Per-replica resource limits (kubernetes target)."""

    cpu: str | None = Field(None, pattern=_QUANTITY, description="e.g. 500m or 1")
    memory: str | None = Field(None, pattern=_QUANTITY, description="e.g. 512Mi or 1Gi")


class RunConfig(_Strict):
    """How the running app is reached and scaled."""

    port: int | None = Field(None, ge=1, le=65535, description="Port the app listens on.")
    healthcheck: HealthcheckConfig = HealthcheckConfig()
    replicas: int = Field(
        1, ge=1, le=50, description="Copies of the app that serve traffic (without autoscale)."
    )
    autoscale: AutoscaleConfig | None = None
    resources: ResourcesConfig = ResourcesConfig()


class PreviewsConfig(_Strict):
    """Preview environments for pull requests."""

    enabled: bool = Field(True, description="Deploy pull requests to preview environments at all.")
    ttl: str | None = Field(None, pattern=_DURATION, description="Destroy after inactivity: 30m, 12h, 7d.")
    drafts: bool = Field(False, description="Also deploy draft pull requests.")
    seed: str | None = Field(
        None,
        min_length=1,
        description="Command run once per preview environment, after its first release step "
        "and before its first traffic: loads demo data.",
    )
    when: str = Field(
        "always",
        pattern=_PREVIEW_WHEN,
        description="always: every pull request; label:<name>: only while it carries the label; "
        "command: only after `/deploy` or `/deploy preview`.",
    )

    after: str = Field(
        "build",
        pattern=_AFTER,
        description="build: a preview goes live once built; checks: built at once, live only once "
        "the commit's required checks pass (deploy.checks, else the base branch's).",
    )

    @property
    def label(self) -> str | None:
        """The label that turns previews on (`when: label:<name>`), else None."""
        return self.when.removeprefix("label:") if self.when.startswith("label:") else None


class DeployConfig(_Strict):
    """When pushed commits (production and `branches`) go live."""

    after: str = Field(
        "build",
        pattern=_AFTER,
        description="build: live once built; checks: built at once, live only once the commit's "
        "required checks pass, and blocked while one has failed.",
    )
    checks: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="The check runs or status contexts to wait for; empty: those the branch's "
        "rulesets and branch protection require.",
    )


EnvValue = Annotated[str | int | float | bool, Field(union_mode="left_to_right")]
Hostname = Annotated[str, Field(pattern=_HOSTNAME, max_length=253)]


class AppBuildConfig(_Strict):
    """An app's own install, build and start commands (its folder is the app's `root`)."""

    install: str | None = Field(None, description="Command that installs dependencies.")
    build: str | None = Field(None, description="Command that builds the app.")
    start: str | None = Field(None, description="Command that starts the app; it must listen on $PORT.")
    dockerfile: str | None = Field(None, description="Path of a Dockerfile inside the app's root.")


class AppConfig(_Strict):
    """One app of a monorepo: its own project, environments, check runs and domains."""

    name: str = Field(pattern=_APP_NAME, description="Lower-case letters, digits, dashes: web, api.")
    root: Annotated[str, AfterValidator(inside_repo)] = Field(description="Folder of the app, like apps/web.")
    paths: list[Annotated[str, AfterValidator(check_glob)]] = Field(
        default_factory=list,
        description="Globs of the files that deploy this app when they change (default: <root>/**); "
        "a leading ! excludes.",
    )
    build: AppBuildConfig = AppBuildConfig()
    run: RunConfig | None = Field(None, description="Replaces the top-level run for this app.")
    release: str | None = Field(None, min_length=1, description="Replaces the top-level release.")
    env: dict[Annotated[str, Field(pattern=_ENV_KEY)], EnvValue] = Field(
        default_factory=dict, description="Added over the top-level env for this app."
    )
    domains: list[Hostname] = Field(default_factory=list)


def _apps_fit(apps: list[AppConfig], info: ValidationInfo) -> list[AppConfig]:
    seen: set[str] = set()
    for app in apps:
        if app.name in seen:
            raise ValueError(f"two apps are named {app.name!r}; each app needs a name of its own")
        seen.add(app.name)
    if apps and info.data.get("domains"):
        raise ValueError("with apps, list domains under the app they belong to, not at the top level")
    build = info.data.get("build")
    if apps and build is not None and build.model_fields_set:
        raise ValueError("with apps, each app has its own root and build; remove the top-level build")
    return apps


class RepoConfig(_Strict):
    """The whole `autostack.yml`; every key is optional."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="autostack.yml",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    build: BuildConfig = BuildConfig()
    release: str | None = Field(
        None,
        min_length=1,
        description="Command run once per deployment after the build and before traffic switches "
        "(migrations); its failure fails the deployment. Overrides a Procfile release: line.",
    )
    run: RunConfig = RunConfig()
    previews: PreviewsConfig = PreviewsConfig()
    deploy: DeployConfig = DeployConfig()
    branches: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Branches (besides the default) that get an environment."
    )
    env: dict[Annotated[str, Field(pattern=_ENV_KEY)], EnvValue] = Field(
        default_factory=dict, description="Plain environment variables; secrets live in AutoStack."
    )
    domains: list[Hostname] = Field(
        default_factory=list,
        description="Hostnames meant for production. Validated only: domains are "
        "attached on the web page's Domains tab, which this key does not do yet.",
    )
    apps: Annotated[list[AppConfig], AfterValidator(_apps_fit)] = Field(
        default_factory=list,
        description="Monorepos: each app deploys as its own project, only when its paths change.",
    )

    @model_validator(mode="after")
    def _checks_need_after(self) -> RepoConfig:
        if self.deploy.checks and "checks" not in (self.deploy.after, self.previews.after):
            raise ValueError(
                "deploy.checks lists checks to wait for, but neither deploy.after nor "
                "previews.after is checks; set one of them to checks"
            )
        return self


def _allowed_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # an item of a list: its model is the list's
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        nested = next(
            (
                a
                for a in (annotation, *getattr(annotation, "__args__", ()))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
        if nested is None:
            return []
        model = nested
    return list(model.model_fields)


_UNION_BRANCHES = {"str", "int", "float", "bool", "[key]"}


def _describe(error: Any) -> str:
    loc = tuple(p for p in error["loc"] if p not in _UNION_BRANCHES)
    if len(loc) < len(error["loc"]) and error["type"].endswith("_type"):
        error = {**error, "type": "scalar_type"}
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(RepoConfig, loc))
        return f"unknown key {key!r}; allowed here: {allowed}"
    shown = json.dumps(value, default=str) if not isinstance(value, dict) else "a mapping"
    allowed = {
        "greater_than_equal": f"a number ≥ {ctx.get('ge')}",
        "less_than_equal": f"a number ≤ {ctx.get('le')}",
        "string_pattern_mismatch": _PATTERN_WORDS.get(
            ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}"
        ),
        "string_too_short": "a non-empty string",
        "int_type": "a whole number",
        "bool_type": "true or false",
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping",
    }.get(kind, "")
    if kind == "missing":
        return f"{key} is required"
    if kind == "value_error":
        return f"{key}: {error['msg'].removeprefix('Value error, ')}"
    if kind == "scalar_type":
        allowed = "a string, number or boolean"
    return f"{key}: {shown} is not allowed; expected {allowed or error['msg']}"


def duration_seconds(duration: str | None) -> int | None:
    """Seconds in a validated duration such as 30m, 72h or 3d (pure); None stays None."""
    if duration is None:
        return None
    return int(duration[:-1]) * _DURATION_SECONDS[duration[-1]]


def parse_config(text: str, *, filename: str = "autostack.yml") -> RepoConfig:
    """Validate the text of `autostack.yml`; raise ConfigError naming every bad key."""
    try:
        raw = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{filename}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{filename}: the top level must be a mapping of keys, got {type(raw).__name__}")
    try:
        return RepoConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(dict.fromkeys(_describe(e) for e in exc.errors()))
        raise ConfigError(f"{filename}: {problems}") from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `autostack.yml`, generated from the models above."""
    return RepoConfig.model_json_schema(mode="validation")


def schema_text() -> str:
    """The schema as published in docs/autostack.schema.json."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def pattern_in_words(pattern: str) -> str | None:
    """What a key's pattern asks for in words people read (for the docs), if it has any."""
    return _PATTERN_WORDS.get(pattern)
