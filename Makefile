# The README's commands. Each target creates the virtualenv first if it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
STAMP  := $(VENV)/.installed
# checkov pins an old `packaging` that breaks pulumi, so it gets a virtualenv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_VERSION := 3.3.30
# actionlint checks the GitHub workflows; built from its Go module into .tools/.
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := .tools/bin/actionlint
# Validators generated from the cert-manager and Prometheus operator CRDs (npm, pinned
# in tools/crd/package-lock.json), for custom resources.
CRD_STAMP := tools/crd/node_modules/.installed

.PHONY: venv checkov actionlint crd-schemas render validate test unit bench docs clean engine cluster cluster-down edge promtool charts diagrams e2e-tools up down preview e2e

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

checkov: $(CHECKOV_STAMP)

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $@

actionlint: $(ACTIONLINT)

$(ACTIONLINT):
	GOTOOLCHAIN=local GOBIN=$(CURDIR)/.tools/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

crd-schemas: $(CRD_STAMP)

$(CRD_STAMP): tools/crd/package.json tools/crd/package-lock.json
	npm ci --prefix tools/crd --no-audit --no-fund --silent
	touch $@

## make render STACK=prod: write build/$(STACK)/manifests.yaml and list its objects
render: $(STAMP)
	$(PY) -m tools.render $(STACK)

## make validate STACK=prod: render (one run of the program), then the schemas and every safety rule, with a per-rule summary
validate: $(STAMP) $(CHECKOV_STAMP) $(CRD_STAMP)
	$(PY) -m tools.validate $(STACK)

## make test: every tier: the unit, gate and real-server tests (make unit), then the real
## engine against the built-in cluster (make e2e).
test: unit e2e

## make unit: every tier but the end-to-end one (it builds promtool for the alerting-rule tests
## the first time). First installs the real servers the data-tier
## tests run (as root, with apt-get) or stops with the command to run;
## SHIPYARD_SKIP_REAL_SERVERS=1 opts out.
unit: $(STAMP) $(CHECKOV_STAMP) $(ACTIONLINT) $(CRD_STAMP) promtool
	bash tools/ensure-servers.sh
	$(PY) -m pytest

## make bench: how long the program takes under mocks (figures, not pass/fail)
bench: $(STAMP)
	$(PY) -m tools.bench

## make diagrams: redraw examples/<system>/architecture.svg from each example stack's objects (Graphviz)
diagrams: $(STAMP)
	$(PY) -m tools.diagram

## make docs: regenerate docs/config.md from the specs
docs: $(STAMP)
	$(PY) -m tools.config_docs

## make engine: the Pulumi CLI, Python language host and providers, built from Go modules
## into ~/.cache/shipyard (skipped when a pulumi with the plugins is on PATH)
engine:
	bash tools/engine/build.sh

## make cluster / cluster-down: a local Kubernetes control plane on 127.0.0.1 (kubeconfig in build/cluster)
cluster:
	bash tools/cluster/build.sh
	bash tools/cluster/up.sh >/dev/null

cluster-down:
	bash tools/cluster/down.sh

# The three Go builds at once: they share the cores, but not their waits (downloads, links).
e2e-tools:
	$(MAKE) --no-print-directory -j3 engine cluster edge
	bash tools/addons/charts.sh >/dev/null

## make charts: local copies of the add-on charts that ship in Go modules (cert-manager, Envoy
## Gateway) in ~/.cache/shipyard/charts, for `addons.<add-on>.chart` where no chart repository
## is reachable; prints each one's path
charts:
	bash tools/addons/charts.sh

## make edge: the Traefik proxy, from its Go module, into ~/.cache/shipyard (about 7 minutes
## cold); the end-to-end tier runs it in front of a test server
edge:
	bash tools/edge/build.sh

## make promtool: Prometheus' promtool, from its Go module, into ~/.cache/shipyard (about 5
## minutes cold), for checking and unit-testing alerting rules
promtool:
	bash tools/monitoring/build.sh

## make e2e: the end-to-end tier, `pulumi up` of dev and prod into the built-in cluster, and a real
## proxy configured from a stack's edge objects (tests/e2e); builds the engine, the cluster and
## the proxy on first use (about 45 minutes on 2 cores, then cached)
e2e: $(STAMP) $(CHECKOV_STAMP) e2e-tools
	$(PY) -m pytest -m e2e tests/e2e

## make up STACK=dev: the real `pulumi up`, into the built-in cluster unless KUBECONFIG names another
up: $(STAMP) $(CHECKOV_STAMP)
	bash tools/deploy.sh up $(STACK)

## make down STACK=dev: the real `pulumi destroy` (refused in production while data is protected)
down: $(STAMP)
	bash tools/deploy.sh down $(STACK)

## make preview STACK=prod: the real `pulumi preview` with the policy pack, as pull requests run it
preview: $(STAMP) $(CHECKOV_STAMP)
	bash tools/deploy.sh preview $(STACK)

clean:
	rm -rf build .pytest_cache
