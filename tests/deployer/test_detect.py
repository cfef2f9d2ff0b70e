"""Detection tables: a tree of files → framework, commands, port and reason."""

from __future__ import annotations

import json

import pytest

from deployer.detect import DetectError, detect


def _tree(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _pkg(**fields) -> str:
    return json.dumps(fields)


CASES = [
    (
        "dockerfile",
        {"Dockerfile": "FROM x", "package.json": "{}"},
        ("docker", None, None, None, 8080, "found a Dockerfile"),
    ),
    (
        "nextjs",
        {
            "package.json": _pkg(dependencies={"next": "15"}, scripts={"build": "next build"}),
            "package-lock.json": "{}",
        },
        (
            "nextjs",
            "npm ci --no-audit --no-fund",
            "npm run build",
            "next start -p $PORT -H 127.0.0.1",
            3000,
            "found next in package.json dependencies; installs with npm (package-lock.json)",
        ),
    ),
    (
        "vite",
        {"package.json": _pkg(devDependencies={"vite": "5"}, scripts={"build": "vite build"})},
        (
            "vite",
            "npm install --no-audit --no-fund",
            "npm run build",
            None,
            8080,
            "found vite in package.json dependencies; dist/ is served as static files; "
            "installs with npm (no lockfile)",
        ),
    ),
    (
        "node-server",
        {"package.json": _pkg(scripts={"start": "node s.js"})},
        (
            "node",
            "npm install --no-audit --no-fund",
            None,
            "npm start",
            3000,
            "found a start script in package.json; installs with npm (no lockfile)",
        ),
    ),
    (
        "spa-build-only",
        {"package.json": _pkg(scripts={"build": "webpack"})},
        (
            "static-spa",
            "npm install --no-audit --no-fund",
            "npm run build",
            None,
            8080,
            "found a build script and no start script in package.json; dist/ is served as static "
            "files; installs with npm (no lockfile)",
        ),
    ),
    (
        "flask",
        {"requirements.txt": "Flask==3.0\n", "app.py": "app = Flask(__name__)"},
        (
            "flask",
            "pip install -r requirements.txt && python -m pip install gunicorn",
            None,
            "gunicorn app:app --bind 127.0.0.1:$PORT --workers ${WEB_CONCURRENCY:-2}",
            8000,
            "found flask in requirements.txt; served by gunicorn",
        ),
    ),
    (
        "fastapi-src",
        {"requirements.txt": "fastapi\nuvicorn\n", "src/main.py": "app = FastAPI()"},
        (
            "fastapi",
            "pip install -r requirements.txt",
            None,
            "uvicorn src.main:app --host 127.0.0.1 --port $PORT --workers ${WEB_CONCURRENCY:-2}",
            8000,
            "found fastapi in requirements.txt; served by uvicorn",
        ),
    ),
    (
        "django",
        {"requirements.txt": "django>=5\n", "manage.py": ""},
        (
            "django",
            "pip install -r requirements.txt && python -m pip install gunicorn",
            None,
            "gunicorn config.wsgi --bind 127.0.0.1:$PORT --workers ${WEB_CONCURRENCY:-2}",
            8000,
            "found django in requirements.txt and manage.py",
        ),
    ),
    (
        "fastapi-uv",
        {
            "pyproject.toml": '[project]\nname="x"\ndependencies=["fastapi>=0.1"]\n',
            "uv.lock": "",
            "main.py": "app = FastAPI()",
        },
        (
            "fastapi",
            "uv sync --frozen --no-dev --no-install-project && uv pip install uvicorn",
            None,
            "uvicorn main:app --host 127.0.0.1 --port $PORT --workers ${WEB_CONCURRENCY:-2}",
            8000,
            "found fastapi in pyproject.toml; served by uvicorn",
        ),
    ),
    (
        "flask-poetry",
        {"pyproject.toml": '[tool.poetry.dependencies]\npython="^3.11"\nflask="^3"\n', "poetry.lock": ""},
        (
            "flask",
            "poetry install --no-root --only main --no-interaction && python -m pip install gunicorn",
            None,
            "gunicorn app:app --bind 127.0.0.1:$PORT --workers ${WEB_CONCURRENCY:-2}",
            8000,
            "found flask in pyproject.toml; served by gunicorn",
        ),
    ),
    (
        "go",
        {"go.mod": "module x\n", "go.sum": ""},
        ("go", "go mod download", "go build -o app .", "./app", 8080, "found go.mod"),
    ),
    (
        "static",
        {"index.html": "<h1>x</h1>"},
        ("static", None, None, None, 8080, "found index.html and no build files"),
    ),
    (
        "static-public",
        {"public/index.html": "<h1>x</h1>"},
        ("static", None, None, None, 8080, "found public/index.html and no build files"),
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_detects(tmp_path, files, expected):
    found = detect(_tree(tmp_path, files))

    assert (found.framework, found.install, found.build, found.start, found.port, found.reason) == expected


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"README.md": "hi"},
            "looked for Dockerfile, package.json, requirements.txt, pyproject.toml, Pipfile, go.mod, "
            "Cargo.toml, pom.xml, build.gradle, Procfile or index.html in the app folder; add one "
            "of them, or set build.start and run.port in autostack.yml",
        ),
        (
            {"requirements.txt": "requests\n"},
            "requirements.txt names none of django, fastapi, starlette or flask; set build.start",
        ),
        ({"package.json": "{"}, "package.json is not valid JSON"),
        ({"package.json": "{}"}, "package.json has no start script and no build script"),
        ({"pyproject.toml": "[project"}, "pyproject.toml is not valid TOML"),
    ],
    ids=["empty", "unknown-python", "bad-json", "no-scripts", "bad-toml"],
)
def test_unknown_layouts_say_what_was_looked_for(tmp_path, files, message):
    with pytest.raises(DetectError) as error:
        detect(_tree(tmp_path, files))

    assert message in str(error.value)
