# The verbs a newcomer needs. Every target finds a Python 3.12+ by itself
# (scripts/find-python); override it with `make PYTHON=/path/to/python3.13 …`.

VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-dev dotenv run test lint format check-migrations migrate superuser ci

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

$(BIN)/python:
	@PY=$$(PYTHON="$(PYTHON)" scripts/find-python) && echo "using $$PY" && "$$PY" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime  ## create .venv with the runtime dependencies

install-dev: $(VENV)/.dev  ## create .venv with runtime, test and lint dependencies

dotenv: | $(BIN)/python
	@$(BIN)/python scripts/ensure_dotenv.py

run: $(VENV)/.runtime dotenv  ## set up and serve the API on http://127.0.0.1:8000
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4

migrate: $(VENV)/.runtime dotenv  ## apply database migrations
	$(MANAGE) migrate --noinput

superuser: $(VENV)/.runtime dotenv  ## create a staff superuser interactively
	$(MANAGE) createsuperuser

test: $(VENV)/.dev  ## run the test suite (needs PostgreSQL and Redis, see README)
	$(BIN)/pytest

lint: $(VENV)/.dev  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: $(VENV)/.dev  ## fail when a model change has no migration
	DJANGO_SETTINGS_MODULE=config.test_settings $(MANAGE) makemigrations --check --dry-run

ci: lint check-migrations test  ## what .ci/run runs after preparing the machine
