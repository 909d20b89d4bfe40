# The verbs a newcomer needs. Every target finds a Python 3.12+ by itself
# (scripts/find-python); override it with `make PYTHON=/path/to/python3.13 …`.

VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-dev dotenv run test reliability lint format check-migrations check-schema \
	check-compose migrate superuser demo-data clear-cache bench compose-up ci

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
	$(MANAGE) collectstatic --noinput --verbosity 0
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py config.wsgi

migrate: $(VENV)/.runtime dotenv  ## apply database migrations
	$(MANAGE) migrate --noinput

superuser: $(VENV)/.runtime dotenv  ## create a staff superuser interactively
	$(MANAGE) createsuperuser

USERS ?= 1000
POSTS_PER_USER ?= 5
SEED ?= 42
demo-data: $(VENV)/.runtime dotenv  ## seed demo data: make demo-data USERS=100000 POSTS_PER_USER=5
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo_data --users $(USERS) --posts-per-user $(POSTS_PER_USER) --seed $(SEED)

clear-cache: $(VENV)/.runtime dotenv  ## drop every cached API page
	$(MANAGE) clear_api_cache

BENCH_USERS ?= 10000
BENCH_POSTS_PER_USER ?= 5
BENCH_DURATION ?= 15
bench: $(VENV)/.dev  ## benchmark: make bench BENCH_USERS=1000000 BENCH_DURATION=15
	$(BIN)/python bench/run.py --users $(BENCH_USERS) --posts-per-user $(BENCH_POSTS_PER_USER) \
		--duration $(BENCH_DURATION) --single
	$(BIN)/python bench/explain.py --users $(BENCH_USERS)

compose-up:  ## build and start PostgreSQL, Redis and the API with Docker Compose
	@PY=$$(PYTHON="$(PYTHON)" scripts/find-python) && "$$PY" scripts/ensure_dotenv.py
	@if docker compose version >/dev/null 2>&1; then docker compose up --build; \
	else docker-compose up --build; fi

test: $(VENV)/.dev  ## run the test suite (needs PostgreSQL and Redis, see README)
	$(BIN)/pytest

RELIABILITY_TESTS := core/tests/test_contract.py core/tests/test_parsers.py \
	core/tests/test_faults.py core/tests/test_load.py core/tests/test_browser.py
reliability: $(VENV)/.dev  ## only the reliability suites (docs/RELIABILITY.md); LOAD_SECONDS=120 for longer
	$(BIN)/pytest $(RELIABILITY_TESTS)

lint: $(VENV)/.dev  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: $(VENV)/.dev  ## fail when a model change has no migration
	DJANGO_SETTINGS_MODULE=config.test_settings $(MANAGE) makemigrations --check --dry-run

check-schema: $(VENV)/.dev  ## validate the OpenAPI schema; any warning fails
	DJANGO_SETTINGS_MODULE=config.test_settings $(MANAGE) spectacular --validate --fail-on-warn \
		--file /dev/null

# docker-compose.yml requires DJANGO_SECRET_KEY; validating the file needs a value, not
# a real key, so this one is a dummy that nothing ever runs with.
check-compose:  ## validate docker-compose.yml (Compose v2 or docker-compose 1.29)
	@export DJANGO_SECRET_KEY=compose-config-validation-only; \
	if docker compose version >/dev/null 2>&1; then docker compose config -q; \
	else docker-compose config -q; fi
	@echo "docker-compose.yml is valid"

ci: lint check-migrations check-schema check-compose test  ## everything CI checks
