"""The `autostack` command. Parsing needs argparse alone; each verb's module (and what it
imports: http.client for the client verbs, the server for `serve`) is imported only when it runs.

Exit codes: 0 done, 1 failed or refused, 2 bad usage, 3 cannot reach the server, 130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable

from bot.cli.errors import CliError, StdoutClosed, report
from bot.cli.parser import parser


def _closed_stdout() -> int:
    # the reader (`| head`) went away: point stdout at /dev/null so the interpreter's final
    # flush cannot raise again, and end like a process killed by SIGPIPE would
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `autostack` console script."""
    args = parser().parse_args(argv)
    module, name = args.verb.split(":")
    try:
        verb: Callable[..., int] = getattr(importlib.import_module(f"bot.cli.{module}"), name)
        code = verb(args)
        sys.stdout.flush()
        return code
    except CliError as exc:
        return report(exc, as_json=getattr(args, "json", False))
    except (BrokenPipeError, StdoutClosed):
        return _closed_stdout()
    except KeyboardInterrupt:
        return 130
