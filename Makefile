# Quick start: `make demo` (try the product) and `make test` (run the whole suite).
# Both work on a fresh machine: they create .venv and install what is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHELL  := /bin/bash

.PHONY: test demo install system-deps lint bench clean screenshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[server,dev]'
	@touch $@

install: $(STAMP)

system-deps:
	@.ci/system-deps

test: $(STAMP) system-deps
	$(BIN)/ruff check companion tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/companion demo

lint: $(STAMP)
	$(BIN)/ruff check companion tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Benchmarks print Markdown tables (figures quoted in README). QUICK=1 for a short run.
BENCH_ARGS := $(if $(QUICK),--quick,)
bench: $(STAMP) system-deps
	$(BIN)/python bench/vault.py $(BENCH_ARGS)
	$(BIN)/python bench/server.py $(BENCH_ARGS)
	$(BIN)/python bench/sync.py $(BENCH_ARGS)
	$(BIN)/python bench/app.py $(if $(QUICK),--sizes 1000,)

# The browser tests draw every screen into build/screenshots; this copies them into docs/ on purpose.
screenshots: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -m browser
	mkdir -p docs/screenshots && cp build/screenshots/*.png docs/screenshots/

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
