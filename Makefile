# The two commands: `make run` (the product on http://127.0.0.1:5000/) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres install chromium lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Front-end packages from npm, exactly as package-lock.json pins them.
NODE_STAMP := node_modules/.installed-stamp
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The front end's bundles (bpmn-js, its modeler's properties panel, vega-embed, and their styles and fonts), built
# with esbuild from frontend/ into web/static/build/ in one run (a grouped target).
BUNDLES := web/static/build/replay.js web/static/build/modeler.js web/static/build/compare.js \
  web/static/build/charts.js web/static/build/stalls.js
$(BUNDLES) &: $(NODE_STAMP) $(wildcard frontend/*.js frontend/*.json)
	node_modules/.bin/esbuild $(addprefix frontend/,$(notdir $(BUNDLES))) --bundle --minify --format=iife \
	  --outdir=web/static/build --log-level=warning --loader:.woff=file --loader:.woff2=file --loader:.ttf=file \
	  --loader:.eot=file --loader:.svg=file --alias:domify=./frontend/csp-domify.js

install: $(STAMP) $(NODE_STAMP) $(BUNDLES)

# The demo: PC_DEMO=1 loads the demo partnerships and keeps a generated secret key in instance/.
run: install
	PC_DEMO=1 $(BIN)/flask --app web serve

# Browser tests drive Debian's chromium; install it when it is missing and we may (root, as on CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium package (sudo apt-get install chromium) for the browser tests."; exit 1; fi; }

lint: install
	$(BIN)/ruff check engine web tests bench

test: install chromium lint
	PC_PASSWORD_ITERATIONS=1000 $(BIN)/pytest -q

test-postgres: install chromium
	PC_PASSWORD_ITERATIONS=1000 PC_TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest -q

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) node_modules web/static/build instance .pytest_cache
