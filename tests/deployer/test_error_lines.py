"""The failure summary quotes the first line that says why, for each tool's real output."""

from __future__ import annotations

import pytest

from deployer.error_lines import ErrorLine, first_error, strip_server_paths

PIP_PYTHON = """\
Collecting flask==3.0.0 (from -r requirements.txt (line 1))
  Using cached flask-3.0.0-py3-none-any.whl.metadata (3.6 kB)
ERROR: Ignored the following versions that require a different python version: 2.0 Requires-Python >=3.12
ERROR: Could not find a version that satisfies the requirement numpy==2.0 (from versions: 1.26.4)
ERROR: No matching distribution found for numpy==2.0
"""
PIP_RESOLUTION = """\
Collecting requests==2.31.0
  Downloading requests-2.31.0-py3-none-any.whl (62 kB)
ERROR: Cannot install requests==2.31.0 and urllib3==1.20 because these package versions have conflicting dependencies.
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""
NPM_NETWORK = """\
npm ERR! code ENOTFOUND
npm ERR! syscall getaddrinfo
npm ERR! errno ENOTFOUND
npm ERR! network request to https://registry.npmjs.org/express failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org
npm ERR! network This is a problem related to network connectivity.

npm ERR! A complete log of this run can be found in:
npm ERR!     /root/.npm/_logs/2024-05-01T10_00_00_000Z-debug-0.log
"""
NPM10_LIFECYCLE = """\
> web@0.1.0 build
> next build

npm error code 1
npm error path /srv/app
npm error command failed
npm error command sh -c next build
"""
NEXT_FONT = """\
> web@0.1.0 build
> next build

   ▲ Next.js 14.2.3
   Creating an optimized production build ...
request to https://fonts.googleapis.com/css2?family=Inter failed, reason: getaddrinfo ENOTFOUND fonts.googleapis.com
FetchError: request to https://fonts.googleapis.com/css2?family=Inter failed, reason: getaddrinfo ENOTFOUND fonts.googleapis.com
Failed to compile.
npm ERR! Lifecycle script `build` failed with error:
"""
TRACEBACK = """\
[2024-05-01 10:00:00 +0000] [12] [INFO] Starting gunicorn 22.0.0
Traceback (most recent call last):
  File "/srv/data/builds/web/7/app/app.py", line 3, in <module>
    import flask_sqlalchemy
  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load
ModuleNotFoundError: No module named 'flask_sqlalchemy'
[2024-05-01 10:00:00 +0000] [12] [ERROR] Worker failed to boot.
"""
TSC = """\
> tsc -p .

src/index.ts(12,7): error TS2322: Type 'string' is not assignable to type 'number'.
src/index.ts(20,1): error TS2304: Cannot find name 'foo'.
"""
TSC_PRETTY = """\
src/routes/user.ts:4:10 - error TS2305: Module '"./db"' has no exported member 'connect'.

4 import { connect } from "./db";
           ~~~~~~~
Found 1 error in src/routes/user.ts:4
"""
ESLINT = """\
> eslint .

/srv/data/work/9/src/src/App.jsx
   3:8   warning  'React' is defined but never used  no-unused-vars
  14:11  error    'count' is not defined             no-undef

✖ 2 problems (1 error, 1 warning)
"""
GO = """\
go: downloading github.com/go-chi/chi/v5 v5.0.12
# example.com/api
./main.go:14:2: undefined: chi.NewMux
./main.go:20:5: declared and not used: x
"""
GO_MODULE = """\
go: downloading github.com/acme/missing v1.2.3
go: github.com/acme/missing@v1.2.3: reading https://proxy.golang.org/github.com/acme/missing/@v/v1.2.3.mod: 404 Not Found
"""
CARGO = """\
   Compiling api v0.1.0 (/srv/data/builds/api/3/app)
error[E0425]: cannot find value `port` in this scope
 --> src/main.rs:8:22
  |
8 |     let addr = ("0.0.0.0", port);
  |                            ^^^^ not found in this scope
error: could not compile `api` (bin "api") due to 1 previous error
"""
MAVEN = """\
[INFO] --- maven-compiler-plugin:3.11.0:compile (default-compile) @ demo ---
[INFO] -------------------------------------------------------------
[ERROR] COMPILATION ERROR :
[INFO] -------------------------------------------------------------
[ERROR] /srv/data/builds/demo/4/app/src/main/java/com/acme/App.java:[12,9] cannot find symbol
  symbol:   variable greeting
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile
"""
GRADLE = """\
> Task :compileJava
Download https://repo.maven.apache.org/maven2/org/acme/lib/9.9/lib-9.9.pom

FAILURE: Build failed with an exception.

* What went wrong:
Could not resolve all files for configuration ':compileClasspath'.
> Could not find org.acme:lib:9.9.
"""
GRADLE_JAVAC = """\
> Task :compileJava FAILED
/srv/data/builds/demo/5/app/src/main/java/App.java:7: error: ';' expected
        System.out.println("hi")
                                ^
FAILURE: Build failed with an exception.
"""
SHELL = """\
$ make build
sh: 1: make: not found
"""
ONLY_VAGUE = """\
building...
npm ERR! code 1
npm ERR! Lifecycle script `build` failed with error:
"""
CLEAN = """\
Collecting flask
Successfully installed flask-3.0.0
DeprecationWarning: pkg_resources is deprecated
"""


def _numbered(text: str) -> list[tuple[int, str]]:
    # numbered from 101, as lines of a phase that starts after 100 earlier log lines
    return list(enumerate(text.splitlines(), start=101))


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            PIP_PYTHON,
            ErrorLine(
                103,
                "ERROR: Ignored the following versions that require a different python version: "
                "2.0 Requires-Python >=3.12",
            ),
        ),
        (
            PIP_RESOLUTION,
            ErrorLine(
                103,
                "ERROR: Cannot install requests==2.31.0 and urllib3==1.20 because these package "
                "versions have conflicting dependencies.",
            ),
        ),
        (
            NPM_NETWORK,
            ErrorLine(
                104,
                "npm ERR! network request to https://registry.npmjs.org/express failed, reason: "
                "getaddrinfo ENOTFOUND registry.npmjs.org",
            ),
        ),
        (NPM10_LIFECYCLE, ErrorLine(104, "npm error code 1")),
        (
            NEXT_FONT,
            ErrorLine(
                107,
                "FetchError: request to https://fonts.googleapis.com/css2?family=Inter failed, "
                "reason: getaddrinfo ENOTFOUND fonts.googleapis.com",
            ),
        ),
        (TRACEBACK, ErrorLine(106, "ModuleNotFoundError: No module named 'flask_sqlalchemy'")),
        (
            TSC,
            ErrorLine(
                103, "src/index.ts(12,7): error TS2322: Type 'string' is not assignable to type 'number'."
            ),
        ),
        (
            TSC_PRETTY,
            ErrorLine(
                101,
                "src/routes/user.ts:4:10 - error TS2305: Module '\"./db\"' has no exported member 'connect'.",
            ),
        ),
        (ESLINT, ErrorLine(105, "/srv/data/work/9/src/src/App.jsx:14:11: 'count' is not defined (no-undef)")),
        (GO, ErrorLine(103, "./main.go:14:2: undefined: chi.NewMux")),
        (
            GO_MODULE,
            ErrorLine(
                102,
                "go: github.com/acme/missing@v1.2.3: reading https://proxy.golang.org/github.com/acme/"
                "missing/@v/v1.2.3.mod: 404 Not Found",
            ),
        ),
        (CARGO, ErrorLine(102, "error[E0425]: cannot find value `port` in this scope")),
        (
            MAVEN,
            ErrorLine(
                105,
                "[ERROR] /srv/data/builds/demo/4/app/src/main/java/com/acme/App.java:[12,9] cannot find symbol",
            ),
        ),
        (GRADLE, ErrorLine(107, "Could not resolve all files for configuration ':compileClasspath'.")),
        (
            GRADLE_JAVAC,
            ErrorLine(102, "/srv/data/builds/demo/5/app/src/main/java/App.java:7: error: ';' expected"),
        ),
        (SHELL, ErrorLine(102, "sh: 1: make: not found")),
        (ONLY_VAGUE, ErrorLine(102, "npm ERR! code 1")),
        (CLEAN, None),
    ],
    ids=[
        "pip-requires-python",
        "pip-resolution",
        "npm-network",
        "npm10-lifecycle-only",
        "next-font-fetch",
        "python-traceback",
        "tsc",
        "tsc-pretty",
        "eslint",
        "go",
        "go-module",
        "cargo",
        "maven",
        "gradle-dependency",
        "gradle-javac",
        "shell-not-found",
        "only-vague",
        "no-error",
    ],
)
def test_first_error_line(output: str, expected: ErrorLine | None) -> None:
    assert first_error(_numbered(output)) == expected


def test_colour_codes_do_not_hide_an_error() -> None:
    line = "\x1b[31merror\x1b[39m[E0308]: mismatched types"
    assert first_error([(5, line)]) == ErrorLine(5, "error[E0308]: mismatched types")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/srv/data/builds/web/7/app/src/main.py:3: oops", "src/main.py:3: oops"),
        ("ERROR /srv/data/work/7/src/App.jsx:14:11: x", "ERROR App.jsx:14:11: x"),
        ("(/srv/data/builds/api/7/app)", "()"),
        ("/srv/data/cache/python/abc/lib/python3.12/site.py", "cache/python/abc/lib/python3.12/site.py"),
        # another deployment's folder, and paths outside the data folder, are left alone
        ("/srv/data/builds/web/8/app/x.py", "builds/web/8/app/x.py"),
        ("/usr/lib/node_modules/npm/bin.js", "/usr/lib/node_modules/npm/bin.js"),
        ("/srv/database/x", "/srv/database/x"),
    ],
)
def test_server_paths_are_cut(text: str, expected: str) -> None:
    assert strip_server_paths(text, 7, ("/srv/data",)) == expected
