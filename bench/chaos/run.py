"""The chaos bench: each fault of tests/chaos under a burst of signed deliveries, one line of
figures per fault (see README.md). Exits 1 when any delivery was lost or handled twice, or
took 60 s or more after recovery."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from tests.chaos.faults import FAULTS
from tests.chaos.stack import Figures, stack


def _ok(figures: Figures) -> bool:
    return figures.lost == 0 and figures.handled_twice == 0 and figures.recovery_seconds < 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=2000, help="deliveries per fault (2000)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of {', '.join(FAULTS)}")
    args = parser.parse_args()
    names = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    failed = False
    for name in names:
        tmp = Path(tempfile.mkdtemp(prefix=f"autostack-chaos-{name}-"))
        try:
            with stack(tmp) as running:
                figures = FAULTS[name](running, args.burst)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(("ok    " if _ok(figures) else "FAIL  ") + figures.line(), flush=True)
        failed |= not _ok(figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
