"""What a failed one-off command (release, seed) is reported by: its first error line (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_ERROR = re.compile(r"error|fatal|exception|failed|denied|refused|not found", re.IGNORECASE)
# a Python traceback's opening line says nothing; the error it ends with does
_NOT_THE_ERROR = re.compile(r"^\s*(Traceback \(most recent call last\)|File \")")


def first_error_line(lines: Sequence[str], command: str, code: int) -> str:
    """The first output line that reads as an error, else the last line, with the exit status."""
    said = [line.strip() for line in lines if line.strip()]
    error = next((line for line in said if _ERROR.search(line) and not _NOT_THE_ERROR.match(line)), None)
    line = error or (said[-1] if said else "")
    status = f"`{command}` exited {code}"
    return f"{line} ({status})" if line else status
