"""A small Dockerfile reader for the static checks: instructions in order, continuations joined."""

from __future__ import annotations

import re
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs; comment lines dropped, `\\` continuations joined."""
    joined: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue  # a comment, also one between continuation lines
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        if (pending + line).strip():
            joined.append(pending + line)
        pending = ""
    pairs = []
    for line in joined:
        keyword, _, rest = line.strip().partition(" ")
        pairs.append((keyword.upper(), re.sub(r"\s+", " ", rest).strip()))
    return pairs


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage (each starts at its FROM)."""
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def final_stage_user(text: str | None = None) -> str:
    """The USER the image runs as (the final stage's last USER)."""
    users = [rest for keyword, rest in stages(text or DOCKERFILE.read_text())[-1] if keyword == "USER"]
    assert users, "the final stage sets no USER"
    return users[-1]
