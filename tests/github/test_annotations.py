"""Annotations parsed from build logs, by tool."""

from __future__ import annotations

import pytest

from bot.github.api import Annotation
from bot.reporter.annotations import MAX_ANNOTATIONS, parse_annotations

CASES = {
    "python traceback": (
        [
            "Traceback (most recent call last):",
            '  File "/srv/build/app/main.py", line 10, in <module>',
            "    import settings",
            '  File "/srv/build/app/settings.py", line 4, in <module>',
            '  File "/usr/lib/python3.12/os.py", line 700, in __getitem__',
            "KeyError: 'SECRET_KEY'",
        ],
        [Annotation("settings.py", 4, "'SECRET_KEY'", title="KeyError")],
    ),
    "tsc classic": (
        ["src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."],
        [
            Annotation(
                "src/app.ts",
                3,
                "Type 'string' is not assignable to type 'number'.",
                title="TS2322",
                start_column=7,
            )
        ],
    ),
    "tsc pretty": (
        ["src/x.tsx:8:1 - error TS1005: ';' expected."],
        [Annotation("src/x.tsx", 8, "';' expected.", title="TS1005", start_column=1)],
    ),
    "eslint stylish": (
        [
            "/srv/build/app/src/index.js",
            "  2:10  error  'foo' is not defined  no-undef",
            "  5:1   warning  Unexpected console statement  no-console",
            "",
            "✖ 2 problems (1 error, 1 warning)",
        ],
        [
            Annotation("src/index.js", 2, "'foo' is not defined", title="no-undef", start_column=10),
            Annotation(
                "src/index.js",
                5,
                "Unexpected console statement",
                level="warning",
                title="no-console",
                start_column=1,
            ),
        ],
    ),
    "npm": (
        ["npm ERR! code ERESOLVE", "npm ERR! ERESOLVE unable to resolve dependency tree", "done"],
        [
            Annotation(
                "package.json",
                1,
                "code ERESOLVE\nERESOLVE unable to resolve dependency tree",
                title="npm failed",
            )
        ],
    ),
    "npm 10": (
        ['npm error Missing script: "build"'],
        [Annotation("package.json", 1, 'Missing script: "build"', title="npm failed")],
    ),
    "pip": (
        [
            "ERROR: Could not find a version that satisfies the requirement flask==99 (from versions: 1.0)",
            "ERROR: No matching distribution found for flask==99",
        ],
        [
            Annotation(
                "requirements.txt",
                1,
                "Could not find a version that satisfies the requirement flask==99 (from versions: 1.0)",
                title="pip could not resolve",
            ),
            Annotation(
                "requirements.txt",
                1,
                "No matching distribution found for flask==99",
                title="pip could not resolve",
            ),
        ],
    ),
    "go": (
        ["./main.go:12:5: undefined: handler"],
        [Annotation("main.go", 12, "undefined: handler", start_column=5)],
    ),
    "colour codes": (
        ["\x1b[31msrc/a.ts(1,2): error TS1: bad\x1b[0m"],
        [Annotation("src/a.ts", 1, "bad", title="TS1", start_column=2)],
    ),
    "vendored files ignored": (
        ["node_modules/x/index.ts(1,1): error TS2: nope"],
        [],
    ),
    "plain output": (["Compiled successfully", "Route (app) 12 kB"], []),
}


@pytest.mark.parametrize(("lines", "expected"), CASES.values(), ids=CASES.keys())
def test_annotations(lines, expected):
    assert parse_annotations(lines, roots=["/srv/build/app"]) == expected


def test_at_most_fifty():
    lines = [f"src/f.ts({n},1): error TS1: bad" for n in range(1, 200)]
    assert len(parse_annotations(lines)) == MAX_ANNOTATIONS
