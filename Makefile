# AutoStack: `make run` and `make test` set up .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint migration

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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The schema has not shipped yet, so the single initial revision is regenerated from the models.
migration: $(STAMP)
	rm -f store/migrations/versions/0001_initial_schema.py
	$(BIN)/python -c "import tempfile; from alembic import command; from store.migrate import alembic_config; \
	  command.revision(alembic_config(f'sqlite:///{tempfile.mkdtemp()}/x.db'), message='initial schema', autogenerate=True, rev_id='0001')"
	$(BIN)/ruff format --quiet store/migrations/versions
