# Quick start: `make demo` (try the product) and `make test` (run the whole suite).
# Both work on a fresh machine: they create .venv and install what is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHELL  := /bin/bash

.PHONY: test demo install system-deps lint bench clean screenshots catalog

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
	$(BIN)/python -m pytest -q -n auto --dist loadfile

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
	$(BIN)/python bench/pacing.py $(BENCH_ARGS)
	$(BIN)/python bench/waiting.py $(BENCH_ARGS)
	$(BIN)/python bench/waiting.py --pg $(BENCH_ARGS)
	$(BIN)/python bench/app.py $(if $(QUICK),--sizes 1000,)

# The browser tests draw every screen into build/screenshots; this copies them into docs/ on purpose.
screenshots: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -m browser
	mkdir -p docs/screenshots && cp build/screenshots/*.png docs/screenshots/

# The gettext catalogs (companion/i18n/locale): extract every marked string and Learn article into the
# .pot, merge it into each language's .po (translate what is new there), compile the .mo files the
# app reads (committed, so a fresh clone needs no build step; tests/i18n fails when one is stale).
# The clinic server's public pages (a partner notice, a listed open time) have their own small catalog,
# domain "public" (babel-public.cfg extracts only those modules; the desk stays English).
LOCALES := companion/i18n/locale
PUBLIC_LOCALES := companion/clinic/server/locale
catalog: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/pybabel extract -F babel.cfg --project="Patient Companion" --no-wrap \
	  --sort-by-file -c TRANSLATORS: -o $(LOCALES)/companion.pot .
	$(BIN)/pybabel update -D companion -i $(LOCALES)/companion.pot -d $(LOCALES) --no-wrap --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -D companion -d $(LOCALES) --statistics
	PYTHONPATH=$(CURDIR) $(BIN)/pybabel extract -F babel-public.cfg --project="Patient Companion" --no-wrap \
	  --sort-by-file -c TRANSLATORS: -o $(PUBLIC_LOCALES)/public.pot .
	$(BIN)/pybabel update -D public -i $(PUBLIC_LOCALES)/public.pot -d $(PUBLIC_LOCALES) --no-wrap --ignore-obsolete \
	  --no-fuzzy-matching
	$(BIN)/pybabel compile -D public -d $(PUBLIC_LOCALES) --statistics

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
