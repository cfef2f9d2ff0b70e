# AutoStack: `make run` and `make test` set up .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install install-dev install-eks run test test-cluster lint migration

# uv installs the locks in parallel, in a fraction of pip's time; it is fetched into .venv with
# the interpreter's own pip. Where it cannot be fetched, pip does the work instead.
UV_VERSION := 0.13.9
INSTALL = sh -c 'if [ -x $(BIN)/uv ]; then exec $(BIN)/uv pip install --quiet --python $(BIN)/python "$$@"; \
  else exec $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile "$$@"; fi' install

# Runtime dependencies only (no kubernetes client, no boto3: the `eks` extra), without
# byte-compiling them: the first run is mostly this step, and Python compiles just the
# modules a process imports.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@test -x $(BIN)/uv || $(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check \
	  uv==$(UV_VERSION) || $(BIN)/python -m ensurepip --default-pip >/dev/null
	@echo "installing requirements.lock into $(VENV)"; $(INSTALL) -r requirements.lock
	@$(INSTALL) --no-deps -e .
	@touch $(STAMP)

# The kubernetes target's and AWS adapters' clients (the `eks` extra), and the test and dev
# tools (pytest, ruff, moto, playwright, kubernetes-validate, ...) on top.
$(DEV_STAMP): $(STAMP) requirements-eks.lock requirements-dev.lock
	@echo "installing the eks and dev locks into $(VENV)"; $(INSTALL) -r requirements.lock -r requirements-eks.lock -r requirements-dev.lock
	@touch $(DEV_STAMP)

# The `eks` extra alone, for `make run` against a cluster, S3, SES or Route 53.
install-eks: $(STAMP)
	@echo "installing the eks lock into $(VENV)"; $(INSTALL) -r requirements.lock -r requirements-eks.lock

install: $(STAMP)

install-dev: $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/autostack serve

test: $(DEV_STAMP)
	$(BIN)/python -m pytest

# The kubernetes target against a real control plane (etcd, kube-apiserver, controllers, kwok):
# builds it once per machine into ~/.cache/autostack-cluster, starts it on loopback, runs
# tests/kubernetes/cluster, stops it. Without Go it says it did not run and why.
test-cluster: $(DEV_STAMP)
	cluster/test.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# A new Alembic revision from the difference between the models (store/models/) and the migrations:
#   make migration MESSAGE="add domains.cert_state"
migration: $(DEV_STAMP)
	@test -n "$(MESSAGE)" || { echo 'usage: make migration MESSAGE="what changed"'; exit 2; }
	$(BIN)/python -c "import sys, tempfile; from alembic import command; from store.migrate import alembic_config, upgrade; \
	  url = f'sqlite:///{tempfile.mkdtemp()}/x.db'; upgrade(url); \
	  command.revision(alembic_config(url), message=sys.argv[1], autogenerate=True)" "$(MESSAGE)"
	$(BIN)/ruff format --quiet store/migrations/versions
