"""What changed between two deployments of one environment (pure): the commit range, the plan
each ran with, the names of variables set or removed in between, and the time apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from store.deployment_history import EnvChange

# autostack.yml `env:` values live in the plan too; like stored variables they show by name only
_NAMES_ONLY = ("env",)


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One plan key whose value differs; `before`/`after` are display text, None when absent.
    `hidden`: a variable of `env:`, whose values are not shown."""

    key: str
    before: str | None
    after: str | None
    hidden: bool = False

    @property
    def summary(self) -> str:
        """added, removed or changed."""
        return "added" if self.before is None else "removed" if self.after is None else "changed"


@dataclass(frozen=True, slots=True)
class NameChange:
    """A variable set or removed between the two deployments: its last change, never a value."""

    name: str
    change: str  # set | removed
    scope: str
    actor: str


def compare_url(full_name: str | None, before: str | None, after: str | None) -> str | None:
    """GitHub's page of the commits from `before` to `after`; None without a repository or when
    the commits are missing or the same."""
    if not full_name or not before or not after or before == after:
        return None
    return f"https://github.com/{full_name}/compare/{before}...{after}"


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value) or "(none)"
    return str(value)


def _flat(plan: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in plan.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, name + ".") if value else {name: None})
        else:
            flat[name] = value
    return flat


def config_changes(before: dict[str, Any], after: dict[str, Any]) -> list[ConfigChange]:
    """The plan keys (dotted) whose values differ, in the order the later plan lists them."""
    old, new = _flat(before), _flat(after)
    changes = []
    for key in [*new, *(k for k in old if k not in new)]:
        if old.get(key) == new.get(key) and (key in old) == (key in new):
            continue
        if key.split(".", 1)[0] in _NAMES_ONLY and "." in key:
            hidden = ConfigChange(key, "…" if key in old else None, "…" if key in new else None, True)
            changes.append(hidden)
            continue
        changes.append(
            ConfigChange(
                key, _shown(old[key]) if key in old else None, _shown(new[key]) if key in new else None
            )
        )
    return changes


def name_changes(changes: list[EnvChange]) -> list[NameChange]:
    """Each variable's last change (oldest first in, sorted by name out)."""
    last: dict[tuple[str, str], NameChange] = {}
    for change in changes:
        kind = "removed" if change.action == "env.delete" else "set"
        for name in change.names:
            last[(name, change.scope)] = NameChange(name, kind, change.scope, change.actor)
    return sorted(last.values(), key=lambda c: (c.name, c.scope))


def time_apart(delta: timedelta) -> str:
    """`3 d 4 h`, `2 h 5 min`, `4 min 10 s`, `12 s`: the two largest units of a duration."""
    seconds = int(abs(delta.total_seconds()))
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    first = next((i for i, (_, size) in enumerate(units) if seconds >= size), len(units) - 1)
    label, size = units[first]
    parts = [f"{seconds // size} {label}"]
    if first + 1 < len(units):
        small, small_size = units[first + 1]
        if rest := (seconds % size) // small_size:
            parts.append(f"{rest} {small}")
    return " ".join(parts)
