# AutoStack: `make run` and `make test` set up .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-cluster lint migration

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/autostack serve

test: $(STAMP)
	$(BIN)/python -m pytest

# The kubernetes target against a real control plane (etcd, kube-apiserver, controllers, kwok):
# builds it once per machine into ~/.cache/autostack-cluster, starts it on loopback, runs
# tests/kubernetes/cluster, stops it. Without Go it says it did not run and why.
test-cluster: $(STAMP)
	cluster/test.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A new Alembic revision from the difference between store/models.py and the migrations:
#   make migration MESSAGE="add domains.cert_state"
migration: $(STAMP)
	@test -n "$(MESSAGE)" || { echo 'usage: make migration MESSAGE="what changed"'; exit 2; }
	$(BIN)/python -c "import sys, tempfile; from alembic import command; from store.migrate import alembic_config, upgrade; \
	  url = f'sqlite:///{tempfile.mkdtemp()}/x.db'; upgrade(url); \
	  command.revision(alembic_config(url), message=sys.argv[1], autogenerate=True)" "$(MESSAGE)"
	$(BIN)/ruff format --quiet store/migrations/versions
