"""Reading typed values from the environment, each failure a SettingsError naming the setting."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

_Choice = TypeVar("_Choice", bound=str)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says how to fix it."""


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a `.env` file; comments, blank lines and `export ` prefixes allowed."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value.replace("\\n", "\n")
    return values


def int_value(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    """`name` as a whole number in low..high, `default` when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number; set it to e.g. {default}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range; use {low}..{high}")
    return value


def choice_value(
    env: Mapping[str, str], name: str, default: _Choice, allowed: tuple[_Choice, ...]
) -> _Choice:
    """`name` lower-cased, one of `allowed`, `default` when unset."""
    value = env.get(name, "").strip().lower() or default
    for choice in allowed:
        if value == choice:
            return choice
    raise SettingsError(f"{name}={value!r} is not one of: {', '.join(allowed)}")


def list_value(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """`name` as a comma-separated list, blanks dropped."""
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
