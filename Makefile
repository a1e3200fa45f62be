# Two commands matter: `make book` and `make test`. Both bootstrap the virtual environment from
# the lock file first, so they work on a fresh machine with Python 3.11, make and git.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := --warningiserror --nitpick --keep-going
# Both test runs use the machine's two cores (pytest-xdist). The site tests are dealt out by file,
# so each file's costly shared set-up (the browser's page reading, the own-data rebuild) runs once.
# Folders of _build that hold executed results; `make test` removes them to execute from scratch.
EXECUTED := _build/.jupyter_cache _build/.doctrees _build/jupyter_execute _build/html \
  _build/singlehtml _build/pdf
BUILD_LOG := _build/strict-build.log
# `make test` executes every chapter from scratch. KEEP_CACHE=1 (the publishing workflow) keeps
# the executed chapters of the last run: cache-guard still empties them when src/ or data/ or
# the configuration changed, so a kept chapter is one whose inputs are all the same.
KEEP_CACHE ?=

.PHONY: help install book pdf test lint format lock data validate-methods clean browser mutation

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

# pip bootstraps uv (hash-pinned), and uv installs the lock: the same hashes and versions in
# about 35 s where pip took 5 min on the reference machine. Bytecode is compiled at install time
# (in parallel): where PYTHONDONTWRITEBYTECODE is set, nothing else would ever write it, and every
# process would compile the whole scientific stack again on import (13 s instead of 5 s).
$(STAMP): requirements.lock requirements-bootstrap.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-bootstrap.lock
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes \
	  --no-deps -r requirements.lock || { \
	  echo "uv could not install requirements.lock (it does not read pip's index settings:"; \
	  echo "set UV_INDEX_URL for a mirror); installing it with pip instead, which is slower"; \
	  $(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock; }
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP)  ## create .venv from requirements.lock and install the package

book: $(STAMP) browser  ## build the site into _build/html, with its PDF edition (re-uses executed chapters)
	$(BIN)/python -m anrs119 cache-guard
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	$(BIN)/python -m anrs119 pdf
	@echo "The book is in _build/html/index.html, its PDF in _build/pdf/anrs119-book.pdf"

pdf: book  ## the PDF edition alone: _build/pdf/anrs119-book.pdf (chromium prints the one-page build)

test: $(STAMP) browser  ## lint, unit tests beside a strict from-scratch build (and PDF), then site tests
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(if $(KEEP_CACHE),,rm -rf $(EXECUTED))
	$(BIN)/python -m anrs119 cache-guard
	@# The strict build (then its PDF edition, from the same executed pages) and the own-data
	@# rebuild (a second whole build with its PDF, for the site tests; one notebook at a time, so
	@# mostly one core each, and no compiled kernel needed) run beside the unit tests. The build's
	@# log is printed after them, and either failing fails the target. The numba kernels are
	@# compiled into their cache first, once, instead of by each test worker.
	mkdir -p _build
	own=$$(mktemp -d); trap 'rm -rf "$$own"' EXIT; \
	{ $(BIN)/jupyter-book build . $(JB_FLAGS) && $(BIN)/python -m anrs119 pdf; } \
	  > $(BUILD_LOG) 2>&1 & build=$$!; \
	$(BIN)/python -m tests.site.own_data "$$own" & owned=$$!; \
	$(BIN)/python -m anrs119 compile && \
	$(BIN)/python -m pytest -m "not site" -q -n 2 && unit=0 || unit=$$?; \
	wait $$build && built=0 || built=$$?; \
	cat $(BUILD_LOG); \
	echo "unit tests: exit $$unit; strict build: exit $$built"; \
	if [ $$unit -ne 0 ] || [ $$built -ne 0 ]; then \
	  pkill -P $$owned || true; kill $$owned 2>/dev/null || true; exit 1; fi; \
	wait $$owned; \
	ANRS119_OWN_DATA_BUILD="$$own" $(BIN)/python -m pytest -m site -q -n 2 --dist loadfile

browser:  ## install Debian's chromium (browser tests, PDF) and poppler-utils (PDF tests), if missing
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null || { \
	  echo "installing chromium and poppler-utils (Debian packages) for the browser and PDF tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium poppler-utils >/dev/null; }

lint: $(STAMP)  ## ruff check and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

data: $(STAMP)  ## forensic tables, ABC posterior, checks, sensitivity, reconstruction, ensemble, power
	$(BIN)/python -m anrs119 forensic
	$(BIN)/python -m anrs119 priors
	$(BIN)/python -m anrs119 calibrate
	$(BIN)/python -m anrs119 data
	$(BIN)/python -m anrs119 ensemble
	$(BIN)/python -m anrs119 operating

# The methods run where the truth is known. Each reads the reference table of `make data`
# (calibrate) from its cache (.cache/ or ANRS119_CACHE); without it, the first command simulates
# it again (1,000,000 trials: about 5 minutes on two quiet cores) and caches it.
validate-methods: $(STAMP)  ## run the book's methods where the truth is known (SBC, extensions, estimands, reconstructions, what-if)
	$(BIN)/python -m anrs119 sbc
	$(BIN)/python -m anrs119 validate-extensions
	$(BIN)/python -m anrs119 validate-estimands
	$(BIN)/python -m anrs119 validate-reconstructions
	$(BIN)/python -m anrs119 validate-whatif

lock: $(STAMP)  ## refresh requirements.lock and requirements-run.lock (exact pins with hashes)
	$(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --strip-extras --all-extras \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	@# The readers' requirements (the "Run it yourself" page): what a chapter needs at run time
	@# and the notebook extra, resolved for every platform and Python 3.11+ (uv's universal mode
	@# adds, with markers, what only Windows or macOS need) at the versions of requirements.lock,
	@# whose wheels the installer's cache then already holds.
	pins=$$(mktemp); trap 'rm -f "$$pins"' EXIT; \
	sed -nE 's/^([A-Za-z0-9._-]+==[^ ]+).*/\1/p' requirements.lock > "$$pins"; \
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11.5 --generate-hashes \
	  --extra notebook --constraints "$$pins" --no-header --output-file requirements-run.lock \
	  pyproject.toml; \
	sed -i "s|$$pins|requirements.lock|" requirements-run.lock  # the same bytes each time
	sed -i '1i # The readers\x27 requirements: written by `make lock` (see the Makefile); do not edit.' \
	  requirements-run.lock

clean:  ## remove the build output (keeps .venv)
	rm -rf _build

mutation: $(STAMP)  ## mutation testing (mutmut) of the verdict, tolerance, reproduction, endpoint, predictive-check and ADaM-key code; prints the kill rate (not part of make test: an hour or more on two cores)
	$(BIN)/python -m anrs119 compile
	$(BIN)/mutmut run --max-children 2 > mutants.log 2>&1 || { tail -40 mutants.log; exit 1; }
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python -m tests.mutation_score mutants/mutmut-cicd-stats.json
