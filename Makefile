# `make run` starts the bot, `make test` runs the whole suite; each builds .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench lint locales locales-update migrate clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

locales: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d locales -D messages

run: $(VENV)/.installed locales
	$(PY) -m bot up

migrate: $(VENV)/.installed
	$(PY) -m bot migrate

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: $(VENV)/.installed-dev locales
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -p no:cacheprovider

# Benchmarks: ratios against anchors measured in the same run (bench/run.py); QUICK=1 for CI.
bench: $(VENV)/.installed-dev locales
	$(PY) -m bench $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Re-extract user-facing strings and merge them into both catalogs (then translate the new ones).
locales-update: $(VENV)/.installed-dev
	$(VENV)/bin/pybabel extract -k _ -k __ -k gettext -k lazy_gettext --no-location --sort-output -o locales/messages.pot bot
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete -w 100
	$(PY) -c 'from bot.i18n import fill_source_locale; fill_source_locale()'
