# Carillon: the two commands are `make run` and `make test`; see the README.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test bench lint typecheck pytest install system-deps services messages audit clean bundle

run: install
	scripts/run.sh

test: install services
	$(MAKE) lint typecheck pytest

bench: install services
	$(BIN)/python benchmarks/run.py

install: system-deps $(STAMP) messages node_modules/.installed bundle

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

# The residents' upload page: Uppy (ES modules only) and its CSS bundled by esbuild into one
# JS and one CSS file, served as static files (static/build/ is not in git).
BUNDLE := static/build/residents/upload.js
ESBUILD_FLAGS := --bundle --minify --format=iife --target=es2020 --sourcemap --log-level=warning

bundle: $(BUNDLE)

$(BUNDLE): static/residents/upload.js node_modules/.installed
	node_modules/.bin/esbuild static/residents/upload.js $(ESBUILD_FLAGS) --outdir=static/build/residents

system-deps:
	scripts/install-system.sh

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

messages: $(STAMP)
	$(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0

services:
	scripts/ensure-services.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	scripts/pytest.sh

# pip-audit needs the internet to reach its vulnerability data: for operators, not CI.
audit: $(STAMP)
	$(BIN)/pip install --quiet pip-audit && $(BIN)/pip-audit

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache static/build
