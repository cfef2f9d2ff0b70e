"""Start commands: build.start, then Procfile web:, then a production server; never a dev server."""

from __future__ import annotations

import json

import pytest

from deployer.config import parse_config
from deployer.detect import detect
from deployer.plan import make_plan

W = "${WEB_CONCURRENCY:-2}"


def _tree(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _pkg(**fields) -> str:
    return json.dumps(fields)


FLASK = {"requirements.txt": "flask\ngunicorn==22\n", "app.py": "app = Flask(__name__)\n"}

# (id, files, build.start, framework, runtime, start, reason fragment)
START = [
    (
        "build-start-unknown-tree",
        {"README.md": "hi"},
        "./run.sh",
        "custom",
        "shell",
        "./run.sh",
        "build.start",
    ),
    (
        "build-start-over-dockerfile",
        {"Dockerfile": "FROM x", **FLASK},
        "gunicorn app:app",
        "flask",
        "python",
        "gunicorn app:app",
        "the Dockerfile is not used because build.start is set",
    ),
    (
        "build-start-over-procfile",
        {**FLASK, "Procfile": "web: gunicorn wrong:app\n"},
        "gunicorn right:app",
        "flask",
        "python",
        "gunicorn right:app",
        "served by gunicorn",
    ),
    (
        "build-start-unknown-python",
        {"requirements.txt": "requests\n"},
        "python worker.py",
        "python",
        "python",
        "python worker.py",
        "found requirements.txt",
    ),
    (
        "procfile-over-default",
        {**FLASK, "Procfile": "web: gunicorn main:app --bind 0.0.0.0:$PORT\nworker: celery -A x\n"},
        None,
        "flask",
        "python",
        "gunicorn main:app --bind 0.0.0.0:$PORT",
        "start command from Procfile web:",
    ),
    (
        "procfile-only",
        {"Procfile": "# comment\nweb: ./server --port $PORT\n"},
        None,
        "procfile",
        "shell",
        "./server --port $PORT",
        "found a Procfile with a web: line",
    ),
    (
        "procfile-node-no-scripts",
        {"package.json": "{}", "Procfile": "web: node index.js\n"},
        None,
        "node",
        "node",
        "node index.js",
        "start command from Procfile web:",
    ),
    (
        "flask-factory",
        {"requirements.txt": "flask\n", "app/__init__.py": "def create_app():\n    return Flask(__name__)\n"},
        None,
        "flask",
        "python",
        f"gunicorn 'app:create_app()' --bind 127.0.0.1:$PORT --workers {W}",
        "served by gunicorn",
    ),
    (
        "flask-named-object",
        {"requirements.txt": "Flask>=1.1\n", "main.py": "server = Flask(__name__)\n"},
        None,
        "flask",
        "python",
        f"gunicorn main:server --bind 127.0.0.1:$PORT --workers {W}",
        "served by gunicorn",
    ),
    (
        "fastapi-hypercorn-only",
        {"requirements.txt": "fastapi\nhypercorn\n", "main.py": "app = FastAPI()\n"},
        None,
        "fastapi",
        "python",
        f"hypercorn main:app --bind 127.0.0.1:$PORT --workers {W}",
        "served by hypercorn",
    ),
    (
        "fastapi-granian",
        {"requirements.txt": "fastapi\ngranian\n", "app.py": "api = FastAPI()\n"},
        None,
        "fastapi",
        "python",
        f"granian --interface asgi --host 127.0.0.1 --port $PORT --workers {W} app:api",
        "served by granian",
    ),
    (
        "starlette-daphne",
        {"requirements.txt": "starlette\ndaphne\n", "asgi.py": "app = Starlette()\n"},
        None,
        "starlette",
        "python",
        "daphne -b 127.0.0.1 -p $PORT asgi:app",
        "served by daphne",
    ),
    (
        "cra-dev-start-ignored",
        {
            "package.json": _pkg(
                dependencies={"react-scripts": "5"}, scripts={"start": "react-scripts start", "build": "x"}
            )
        },
        None,
        "create-react-app",
        "node",
        None,
        "build/ is served as static files",
    ),
    (
        "vite-dev-start-ignored",
        {
            "package.json": _pkg(
                devDependencies={"vite": "5"}, scripts={"start": "vite", "build": "vite build"}
            )
        },
        None,
        "vite",
        "node",
        None,
        "dist/ is served as static files",
    ),
    (
        "webpack-serve-start-ignored",
        {"package.json": _pkg(scripts={"start": "webpack serve", "build": "webpack"})},
        None,
        "static-spa",
        "node",
        None,
        "its start script runs a development server (webpack serve)",
    ),
    (
        "next-standalone",
        {
            "package.json": _pkg(dependencies={"next": "15"}, scripts={"build": "next build"}),
            "next.config.mjs": "export default { output: 'standalone' }\n",
        },
        None,
        "nextjs",
        "node",
        "HOSTNAME=127.0.0.1 node .next/standalone/server.js",
        "runs its standalone output",
    ),
]


@pytest.mark.parametrize(
    ("files", "start", "framework", "runtime", "command", "why"),
    [c[1:] for c in START],
    ids=[c[0] for c in START],
)
def test_start_command_sources(tmp_path, files, start, framework, runtime, command, why):
    found = detect(_tree(tmp_path, files), start)

    assert (found.framework, found.runtime, found.start) == (framework, runtime, command)
    assert why in found.reason


def test_build_start_wins_in_the_plan_and_says_so(tmp_path):
    config = parse_config("build:\n  start: ./serve --port $PORT\nrun:\n  port: 9000\n")
    plan = make_plan(config, detect(_tree(tmp_path, {"README.md": "x"}), config.build.start))

    assert (plan.framework, plan.runtime, plan.start, plan.port) == (
        "custom",
        "shell",
        "./serve --port $PORT",
        9000,
    )
    assert plan.reason.endswith("(start from autostack.yml)")


# (id, files, install, build, notes)
SERVERS = [
    ("gunicorn-listed", FLASK, "pip install -r requirements.txt", None, ()),
    (
        "gunicorn-added",
        {"requirements.txt": "flask\n", "app.py": "app = Flask(__name__)"},
        "pip install -r requirements.txt && python -m pip install gunicorn",
        None,
        ("gunicorn is not in requirements.txt; installing it for production",),
    ),
    (
        "uvicorn-added-with-uv",
        {"pyproject.toml": '[project]\nname="x"\ndependencies=["fastapi"]\n', "uv.lock": "", "main.py": ""},
        "uv sync --frozen --no-dev --no-install-project && uv pip install uvicorn",
        None,
        ("uvicorn is not in pyproject.toml; installing it for production",),
    ),
    (
        "django-static-root",
        {
            "requirements.txt": "Django\ngunicorn\n",
            "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")',
            "mysite/settings.py": "STATIC_ROOT = BASE_DIR / 'staticfiles'\n",
        },
        "pip install -r requirements.txt",
        "python manage.py collectstatic --noinput",
        (),
    ),
    (
        "django-whitenoise-settings-package",
        {
            "requirements.txt": "django\ngunicorn\nwhitenoise\n",
            "manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_cfg.settings.prod')",
            "site_cfg/settings/base.py": "MIDDLEWARE = ['whitenoise.middleware.WhiteNoiseMiddleware']\n",
        },
        "pip install -r requirements.txt",
        "python manage.py collectstatic --noinput",
        (),
    ),
    (
        "django-no-static",
        {"requirements.txt": "django\ngunicorn\n", "manage.py": "", "config/settings.py": "DEBUG = False\n"},
        "pip install -r requirements.txt",
        None,
        ("collectstatic skipped: the settings set no STATIC_ROOT and do not use whitenoise",),
    ),
]


@pytest.mark.parametrize(
    ("files", "install", "build", "notes"), [c[1:] for c in SERVERS], ids=[c[0] for c in SERVERS]
)
def test_production_server_is_installed_when_missing(tmp_path, files, install, build, notes):
    found = detect(_tree(tmp_path, files))

    assert (found.install, found.build, found.notes) == (install, build, notes)


def test_django_runs_its_project_wsgi_with_gunicorn(tmp_path):
    files = dict(SERVERS[3][1])
    found = detect(_tree(tmp_path, files))

    assert found.start == f"gunicorn mysite.wsgi --bind 127.0.0.1:$PORT --workers {W}"
    assert "collectstatic runs because the settings set STATIC_ROOT" in found.reason


def test_no_default_is_a_development_server(tmp_path):
    trees = [FLASK, {"requirements.txt": "django\n", "manage.py": ""}, SERVERS[1][1]]
    for index, files in enumerate(trees):
        found = detect(_tree(tmp_path / str(index), files))
        assert found.start is not None
        assert not any(dev in found.start for dev in ("flask run", "runserver", "--reload")), found.start
