"""Check run, commit status and Deployment texts for a deployment (pure render functions)."""

from __future__ import annotations

from bot.github.api import (
    Annotation,
    CheckAction,
    CheckConclusion,
    CheckOutput,
    DeploymentState,
    StatusState,
)
from bot.reporter.views import DeploymentView, build_time, state_label
from handlers import check_names
from store.check_gates import BLOCKED, WAITING

DESCRIPTION_LIMIT = 140
_CONCLUSIONS: dict[str, CheckConclusion] = {
    "success": "success",
    "failure": "failure",
    "cancelled": "cancelled",
    "timed_out": "timed_out",
}
_STATUSES: dict[str, StatusState] = {
    "success": "success",
    "failure": "failure",
    "cancelled": "error",
    "timed_out": "error",
}
_DEPLOYMENT_STATES: dict[str, DeploymentState] = {
    "success": "success",
    "failure": "failure",
    "cancelled": "inactive",
    "timed_out": "error",
}


def _action(button: check_names.Button) -> CheckAction:
    return CheckAction(button.label, button.description, button.command)


REDEPLOY = _action(check_names.REDEPLOY)
ROLLBACK = _action(check_names.ROLLBACK)
PROMOTE = _action(check_names.PROMOTE)


def conclusion_for(outcome: str) -> CheckConclusion:
    """The check-run conclusion for a deployer outcome."""
    return _CONCLUSIONS.get(outcome, "failure")


def status_state_for(outcome: str) -> StatusState:
    """The commit-status state for a deployer outcome."""
    return _STATUSES.get(outcome, "error")


def deployment_state_for(outcome: str) -> DeploymentState:
    """The GitHub Deployment status state for a deployer outcome."""
    return _DEPLOYMENT_STATES.get(outcome, "error")


def clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """One line of at most `limit` characters, with an ellipsis when shortened."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def running_status(state: str) -> StatusState:
    """The commit status of a deployment not finished yet: a blocked one shows the failure."""
    return "failure" if state == BLOCKED else "pending"


def render_title(view: DeploymentView) -> str:
    """The check run's title line."""
    if view.state == WAITING:
        return clip(f"{view.environment} is built and {view.reason or 'waits for its checks'}")
    if view.state == BLOCKED:
        return clip(f"{view.environment} blocked: {view.reason or 'a required check failed'}")
    if view.state == "ready":
        return clip(f"{view.environment} is live" + (f" at {view.url}" if view.url else ""))
    if view.state == "failed":
        return clip(f"{view.environment} failed" + (f": {view.reason}" if view.reason else ""))
    if view.state in ("queued", "building", "deploying"):
        phase = f" ({view.phase})" if view.phase else ""
        return clip(f"{state_label(view.state)[2:].strip()} {view.environment}{phase}")
    why = f" — {view.reason}" if view.reason and view.state == "cancelled" else ""
    return clip(f"{view.environment}: {state_label(view.state)[2:].strip().lower()}{why}")


def describe(view: DeploymentView) -> str:
    """A one-line description for the commit status and Deployment status (≤ 140 chars)."""
    if view.state == "ready":
        return clip(f"Live at {view.url}" if view.url else "Deployed")
    if view.state == "failed":
        return clip(f"Failed: {view.reason}" if view.reason else "Failed")
    if view.state == "queued":
        return "Waiting for a worker"
    if view.state == WAITING:
        return clip(f"Built; {view.reason or 'waits for its checks'}")
    if view.state == BLOCKED:
        return clip(f"Blocked: {view.reason or 'a required check failed'}")
    if view.state in ("building", "deploying"):
        return clip(f"{state_label(view.state)[2:].strip()}" + (f": {view.phase}" if view.phase else ""))
    if view.state == "cancelled" and view.reason:
        return clip(view.reason)
    return clip(state_label(view.state)[2:].strip())


def render_summary(view: DeploymentView, *, annotations_dropped: int = 0) -> str:
    """The Markdown summary: headline, framework and why, build time, cache, artifact, facts."""
    headline = {
        "ready": f"### ✅ {view.environment} is live" + (f" — {view.url}" if view.url else ""),
        "failed": f"### ❌ {view.environment} failed" + (f" — {view.reason}" if view.reason else ""),
        "cancelled": f"### {state_label('cancelled')} {view.environment}"
        + (f" — {view.reason}" if view.reason else ""),
        WAITING: f"### {state_label(WAITING)} {view.environment} — built, {view.reason}",
        BLOCKED: f"### {state_label(BLOCKED)} {view.environment} — {view.reason}; it goes live "
        "once the required checks pass (re-run the failed one), or a new push replaces it",
    }.get(view.state, f"### {state_label(view.state)} {view.environment}")
    if view.state in ("building", "deploying") and view.phase:
        headline += f" — {view.phase}"
    details: list[str] = []
    if view.framework:
        why = f" ({view.framework_reason})" if view.framework_reason else ""
        details.append(f"{view.framework}{why}")
    if view.build_seconds is not None:
        details.append(f"build {build_time(view.build_seconds, view.cache_hit, view.facts.get('cache'))}")
    lines = [headline, ""]
    if details:
        lines.append(" · ".join(details))
    if view.artifact:
        lines.append(f"artifact `{view.artifact}`")
    if view.phases and view.state not in ("building", "deploying"):
        lines.append(" · ".join(f"{name} {seconds:.1f} s" for name, seconds in view.phases.items()))
    extra = {key: value for key, value in view.facts.items() if key != "cache"}
    if extra:
        lines.append("")
        lines.extend(f"- **{key}**: {value}" for key, value in sorted(extra.items()))
    if annotations_dropped:
        lines.append(f"\n{annotations_dropped} more build errors not annotated; see the log.")
    lines.append(f"\n[Deployment #{view.id}]({view.log_url}) · commit `{view.sha[:7]}`")
    return "\n".join(lines)


def actions_for(view: DeploymentView) -> tuple[CheckAction, ...]:
    """Buttons that make sense now: none while running, at most three after."""
    if view.state in ("queued", "building", "deploying"):
        return ()
    if view.kind == "production":
        return (REDEPLOY, ROLLBACK)
    if view.kind == "preview" and view.state == "ready":
        return (REDEPLOY, PROMOTE)
    return (REDEPLOY,)


def render_output(
    view: DeploymentView, text: str | None, annotations: list[Annotation], dropped: int = 0
) -> CheckOutput:
    """The check run's whole output object."""
    return CheckOutput(
        title=render_title(view),
        summary=render_summary(view, annotations_dropped=dropped),
        text=text,
        annotations=tuple(annotations),
    )
