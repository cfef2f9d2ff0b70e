"""Whether a commit's required checks let its deployment go live (pure).

A required check passes as branch protection counts it: success, neutral or skipped. A
failed, cancelled or timed-out one blocks; one not yet reported or still running is waited
for. AutoStack's own checks (`AutoStack / <env>`, `autostack/<env>`) are never waited for:
a team that requires them would otherwise wait forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from handlers.check_names import is_autostack
from handlers.ports import CommitCheck
from store.check_gates import FAILED, PASSED, PENDING, Verdict, waiting_for

PASSING = frozenset({"success", "neutral", "skipped"})
_WORDS = {
    "failure": "failed",
    "error": "failed",
    "cancelled": "was cancelled",
    "timed_out": "timed out",
    "action_required": "needs action",
    "startup_failure": "failed to start",
    "stale": "went stale",
}


def waited_for(names: Iterable[str]) -> list[str]:
    """The required names a deployment waits for: without AutoStack's own, once each, sorted."""
    return sorted({name for name in names if name and not is_autostack(name)})


def blocked_by(name: str, conclusion: str) -> str:
    """`required check CI / test failed`: why a deployment is blocked."""
    return f"required check {name} {_WORDS.get(conclusion, conclusion)}"


def verdict(required: Sequence[str], checks: Sequence[CommitCheck]) -> tuple[Verdict, str | None]:
    """The verdict on `required` given a commit's checks, and the text shown for it.

    Any required check that failed blocks, even while others still run; otherwise the
    deployment waits for the ones not passed yet.
    """
    latest = {check.name: check for check in checks}
    waiting: list[str] = []
    for name in required:
        check = latest.get(name)
        if check is None or check.status != "completed":
            waiting.append(name)
        elif (check.conclusion or "") not in PASSING:
            return FAILED, blocked_by(name, check.conclusion or "failure")
    if waiting:
        return PENDING, waiting_for(waiting)
    return PASSED, None
