# The README's two commands are `make run` and `make test`; everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/cyberquest_test
VENDOR := app/static/vendor

.PHONY: run worker test test-js test-sqlite test-postgres setup setup-dev assets lint format clean

## Set up, migrate SQLite, load the levels, create the demo player, and serve the site.
run: setup assets
	$(BIN)/flask db upgrade
	$(BIN)/flask levels sync
	$(BIN)/flask users demo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## Achievements are awarded in the background: relay the outbox to Redis and run the jobs,
## until interrupted (needs Redis on REDIS_URL, default 127.0.0.1:6379).
worker: setup
	trap 'kill 0' EXIT; $(BIN)/flask outbox relay & $(BIN)/flask worker

## Set up and run the whole suite: the JavaScript unit tests, then the Python suite (with the
## browser tests) once on SQLite and once on PostgreSQL.
test: setup-dev assets
	$(MAKE) test-js
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-js:
	node --test tests/js/

test-sqlite:
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest

test-postgres:
	$(BIN)/python -m tools.ensure_database $(TEST_DATABASE_URL)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest

setup: $(VENV)/.runtime-installed
setup-dev: $(VENV)/.dev-installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

## Front-end packages come from npm at setup time and are copied under app/static/vendor.
assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap-icons
	cp -r node_modules/bootstrap/dist $(VENDOR)/bootstrap
	cp -r node_modules/bootstrap-icons/font $(VENDOR)/bootstrap-icons/font
	mkdir -p $(VENDOR)/chart.js && cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.js/
	touch $@

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules $(VENDOR) instance .pytest_cache
