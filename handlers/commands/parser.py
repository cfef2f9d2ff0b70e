"""Comment text → commands to run, an immediate reply, or nothing (pure, as Atlantis does).

A command is a line starting with `/name` (or `/autostack name`, for repositories where
another bot owns `/deploy`). In a monorepo the first argument may name an app
(`/deploy api production`); elsewhere arguments are read as they always were. Lines in
quotes, fenced code blocks and indented code are someone showing a command, not giving one,
and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handlers.commands.spec import Command, Invocation

PREFIX = "autostack"
MAX_COMMANDS = 10
_COMMAND = re.compile(r"^/([A-Za-z][A-Za-z0-9_-]*)(?:\s+(.*))?$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"^ {0,3}>")
_INDENTED = re.compile(r"^( {4}|\t)")


@dataclass(frozen=True, slots=True)
class Ignore:
    """No command in the text."""


@dataclass(frozen=True, slots=True)
class Reply:
    """Nothing to run; answer with `text` (an unknown command, bad arguments)."""

    text: str


@dataclass(frozen=True, slots=True)
class Run:
    """Commands to run, in the order written, without repeats."""

    invocations: tuple[Invocation, ...]


Parsed = Ignore | Reply | Run


def command_lines(text: str) -> list[str]:
    """The lines that may hold a command: outside code blocks and quotes, stripped."""
    lines: list[str] = []
    fence: str | None = None
    for raw in text.replace("\r\n", "\n").split("\n"):
        opening = _FENCE.match(raw)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        if _QUOTE.match(raw) or _INDENTED.match(raw):
            continue
        lines.append(raw.strip())
    return lines


def _invocation(line: str, apps: Sequence[str]) -> Invocation | None:
    match = _COMMAND.match(line)
    if match is None:
        return None
    name, rest = match.group(1).lower(), (match.group(2) or "").split()
    if name == PREFIX:
        if not rest:
            return Invocation("help")
        name, rest = rest[0].lower().removeprefix("/"), rest[1:]
    if rest and rest[0].lower() in apps:
        return Invocation(name, tuple(rest[1:]), rest[0].lower())
    return Invocation(name, tuple(rest))


def parse(
    text: str, commands: Sequence[Command], help_text: Callable[[], str], apps: Sequence[str] = ()
) -> Parsed:
    """What a comment asks of AutoStack; `help_text` renders the reply to mistakes. `apps`: the
    monorepo's app names, any of which may come first among a command's arguments."""
    known = {command.name: command for command in commands}
    found: list[Invocation] = []
    problems: list[str] = []
    for line in command_lines(text):
        invocation = _invocation(line, apps)
        if invocation is None:
            continue
        command = known.get(invocation.name)
        if command is None:
            problems.append(f"`/{invocation.name}` is not an AutoStack command.")
        elif invocation.app is not None and command.apps == "none":
            problems.append(f"`{invocation.text}`: `/{command.name}` takes no app; usage: `{command.usage}`.")
        elif len(invocation.args) > command.max_args and not command.free_text:
            usage = command.usage_for(tuple(apps))
            problems.append(f"`{invocation.text}`: too many arguments; usage: `{usage}`.")
        elif invocation not in found:
            found.append(invocation)
    if problems:
        return Reply("\n".join([*problems, "Nothing was run.", "", help_text()]))
    if len(found) > MAX_COMMANDS:
        return Reply(f"At most {MAX_COMMANDS} commands per comment; nothing was run.")
    return Run(tuple(found)) if found else Ignore()
