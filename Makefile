# The README's commands. Each target creates the virtualenv first if it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
STAMP  := $(VENV)/.installed

.PHONY: venv render validate test bench docs clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

## make render STACK=prod: write build/$(STACK)/manifests.yaml and list its objects
render: $(STAMP)
	$(PY) -m tools.render $(STACK)

## make validate STACK=prod: render, then check every object against the Kubernetes schemas
validate: render
	$(PY) -m tools.validate $(STACK)

## make test: the whole test suite
test: $(STAMP)
	$(PY) -m pytest

## make bench: how long the program takes under mocks (figures, not pass/fail)
bench: $(STAMP)
	$(PY) -m tools.bench

## make docs: regenerate docs/config.md from the specs
docs: $(STAMP)
	$(PY) -m tools.config_docs

clean:
	rm -rf build .pytest_cache
