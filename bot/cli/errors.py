"""How a CLI verb fails: a one-line message and an exit code, never a traceback."""

from __future__ import annotations

import json
import sys

FAILED, USAGE, UNREACHABLE = 1, 2, 3


class CliError(Exception):
    """A failure to show the user as one line on stderr, ending the command with `code`."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code


def report(error: CliError, as_json: bool = False) -> int:
    """Print the error on stderr (a JSON object with --json) and give its exit code."""
    if as_json:
        print(json.dumps({"error": str(error), "exit": error.code}), file=sys.stderr)
    else:
        print(f"autostack: {error}", file=sys.stderr)
    return error.code


class StdoutClosed(Exception):
    """The reader of our output went away (`autostack ls | head`); not a network error."""
