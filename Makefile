# Two commands do all set-up (see README): `make run` and `make test`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The PostgreSQL the second test pass runs against (trust auth on these machines).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
# The MySQL or MariaDB the third pass runs against (root without a password on these machines;
# the tests create and drop test_<name>). Options may follow: ...?charset=utf8mb4&...
TEST_MYSQL_URL ?= mysql://root@127.0.0.1:3306/test
HOST ?= 127.0.0.1
PORT ?= 8000
# Where `make run` serves, as a browser reaches it (0.0.0.0 listens everywhere, 127.0.0.1 is one
# of them): the shop's address for links in e-mails while SHOP_URL is not set (storefront/settings/mail.py).
MAKE_RUN_URL := http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

.PHONY: run test install browser mysql-headers lint lint-migrations test-sqlite test-postgres test-mysql clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt | mysql-headers
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The shop on SQLite with the demo catalogue; currencies without Stripe keys use the sandbox.
# With DEBUG on (the default here) and no superuser yet, /admin/ gets the local-only login
# admin / admin; with DEBUG=0 no login is made.
run: install
	@if [ "$${DEBUG:-1}" = "0" ]; then \
	  echo "make run is the development server and needs DEBUG=1; for production settings run gunicorn as docs/deploy.md says."; \
	  exit 2; \
	fi
	DEBUG=$${DEBUG:-1} MAKE_RUN_URL=$(MAKE_RUN_URL) $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} MAKE_RUN_URL=$(MAKE_RUN_URL) $(BIN)/python manage.py load_demo
	DEBUG=$${DEBUG:-1} MAKE_RUN_URL=$(MAKE_RUN_URL) $(BIN)/python manage.py ensure_local_admin --if-debug
	DEBUG=$${DEBUG:-1} MAKE_RUN_URL=$(MAKE_RUN_URL) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Debian's packages the tests use: Chromium for the browser tests (Playwright never downloads a
# browser here) and poppler-utils (pdftoppm) to look at generated PDFs.
SYSTEM_PACKAGES := chromium poppler-utils
browser:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing=" chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's$$missing for the tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing$$missing: run 'sudo apt-get install $(SYSTEM_PACKAGES)' for the browser and PDF tests."; \
	  fi; \
	fi

# mysqlclient (the MySQL/MariaDB driver) has no Linux wheel: pip builds it against Debian's
# client headers, found through pkg-config. Installed before pip needs them, as `browser`
# installs Chromium.
MYSQL_PACKAGES := default-libmysqlclient-dev pkg-config
mysql-headers:
	@if ! pkg-config --exists mysqlclient 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's $(MYSQL_PACKAGES) for mysqlclient..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(MYSQL_PACKAGES) >/dev/null; \
	  else \
	    echo "Missing the MySQL client headers: run 'sudo apt-get install $(MYSQL_PACKAGES)' (pip builds mysqlclient against them)."; \
	  fi; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	DEBUG=1 $(BIN)/python manage.py check --fail-level WARNING
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	@$(MAKE) --no-print-directory lint-migrations

# Migrations added since the last release (the commit in .release) must be safe to apply while
# it still serves (docs/deploy.md): django-migration-linter reads the SQL PostgreSQL would run
# (settings in pyproject.toml), so it needs a PostgreSQL server, any database on it.
LINT_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
# Says in one line what is missing where a pass cannot run (no server, a login refused), and
# creates the named database where the server answers without it.
DATABASE_READY := .ci/database_ready.py
lint-migrations: install
	@release=$$(cat .release); \
	if ! git cat-file -e "$$release^{commit}" 2>/dev/null; then \
	  echo "The last release $$release (.release) is not in this clone's history (git fetch --unshallow)."; exit 1; \
	fi; \
	if why=$$($(BIN)/python $(DATABASE_READY) '$(LINT_POSTGRES_URL)' 2>&1); then \
	  [ -z "$$why" ] || echo "$$why"; \
	  DEBUG=1 LOG_LEVEL=WARNING DATABASE_URL='$(LINT_POSTGRES_URL)' $(BIN)/python manage.py lintmigrations --git-commit-id "$$release" --project-root-path .; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "The migration linter needs PostgreSQL: $$why"; exit 1; \
	else \
	  echo "SKIPPED the migration linter: $$why (set LINT_POSTGRES_URL)."; \
	fi

# Each pass runs in parallel (pytest-xdist): one process per core, each with a database of its
# own (test_<name>_gw0, ...) and a Redis database of its own; a test module stays on one process,
# so its module-wide browser or shop starts once. TEST_WORKERS=0 runs a pass in one process.
TEST_WORKERS ?= auto
PYTEST = $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-sqlite: install browser
	DATABASE_URL= $(PYTEST)

# The same suite on PostgreSQL (what production runs). Skipped, loudly, where none answers,
# except under CI, where that is a failure.
test-postgres: install browser
	@if why=$$($(BIN)/python $(DATABASE_READY) '$(TEST_POSTGRES_URL)' 2>&1); then \
	  [ -z "$$why" ] || echo "$$why"; \
	  DATABASE_URL='$(TEST_POSTGRES_URL)' $(PYTEST); \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "The PostgreSQL pass cannot run: $$why"; exit 1; \
	else \
	  echo "SKIPPED the PostgreSQL pass: $$why (set TEST_POSTGRES_URL)."; \
	fi

# The same suite on MySQL/MariaDB (DATABASE_URL=mysql://...), skipped and failing under CI as
# the PostgreSQL pass is.
test-mysql: install browser
	@if why=$$($(BIN)/python $(DATABASE_READY) '$(TEST_MYSQL_URL)' 2>&1); then \
	  [ -z "$$why" ] || echo "$$why"; \
	  DATABASE_URL='$(TEST_MYSQL_URL)' $(PYTEST); \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "The MySQL/MariaDB pass cannot run: $$why"; exit 1; \
	else \
	  echo "SKIPPED the MySQL/MariaDB pass: $$why (set TEST_MYSQL_URL)."; \
	fi

test: lint test-sqlite test-postgres test-mysql

clean:
	rm -rf $(VENV) staticfiles .pytest_cache test-artifacts db.sqlite3
