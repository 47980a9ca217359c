# Shouhu — `make run` serves the demo county; `make test` runs the whole suite (README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1:8000
# The pure rules and the write services carry the platform's promises: their coverage has a floor.
COVERAGE_FLOOR ?= 80
COVERED := shouhu/*/rules.py,shouhu/*/services.py,shouhu/*/services/*.py,shouhu/*/*/services.py

.PHONY: install run test lint fuzz bench browser clean messages docs-deps

$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

run: install docs-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --logins-json demo-logins.json
	@echo "Shouhu 守护: http://$(HOST)/  (演示账号见上表 / demo logins above; Ctrl-C to stop)"
	SHOUHU_DEBUG=1 $(PY) manage.py runserver $(HOST)

# Browser tests drive Debian's Chromium; install it when we can (root), otherwise they skip and say so.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is not installed (sudo apt-get install chromium): browser tests will be skipped."; fi; \
	fi

# Documents (PDF): WeasyPrint's system libraries (Pango, HarfBuzz), Chinese fonts, and poppler's
# pdftotext/pdftoppm that the document tests read PDFs with. Installed when we can (root).
DOCS_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils
docs-deps:
	@if ! dpkg -s $(DOCS_DEBS) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing WeasyPrint's libraries, Chinese fonts and poppler-utils for documents…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DOCS_DEBS) >/dev/null; \
	  else echo "Missing: $(DOCS_DEBS) (sudo apt-get install them): documents cannot be generated."; fi; \
	fi

test: install browser docs-deps
	$(PY) manage.py makemigrations --check --dry-run >/dev/null
	$(PY) -m pytest -q -n 2 --dist loadfile --cov --cov-report=
	@echo "Coverage of shouhu (tests and migrations excluded): $$($(PY) -m coverage report --format=total)%"
	@echo "Coverage of every rules and services module (floor $(COVERAGE_FLOOR)%):"
	$(PY) -m coverage report --include='$(COVERED)' --fail-under=$(COVERAGE_FLOOR)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shouhu config
	$(VENV)/bin/lint-imports

# Hostile input never gives a 500 (issue 10 part 9): schemathesis against /api/v1/schema/ as the county
# administrator and a village worker, on a fresh demo database behind gunicorn with DEBUG off. SQLite in
# a temporary folder by default; FUZZ_DATABASE_URL=postgres://…/<name>fuzz recreates that database.
fuzz: install
	$(PY) .ci/fuzz.py

# Benchmarks print figures (docs/benchmarks.md); they take about an hour at full size.
bench: install
	$(PY) bench/run.py --children 100000 --backend both
	$(PY) bench/bench_scan.py --backend postgres
	$(PY) bench/bench_scan.py --backend sqlite
	$(PY) bench/bench_ledger.py --rows 100000 --backend both --iie-rows 10000

# Translations live in each app (shouhu/<app>/locale, zh-hans source, English beside it): collect new
# strings without line numbers (so branches merge), then compile. Translate the empty msgstr entries.
messages: install
	for d in shouhu/*/locale; do app=$$(dirname $$d); \
	  (cd $$app && ../../$(PY) ../../manage.py makemessages -l en --no-location --no-wrap \
	     --ignore='tests/*' --ignore='migrations/*' >/dev/null); done
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules >/dev/null

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3* huey.sqlite3* bench/out
