# BNPL credit decision platform. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
ARTIFACT_DIR := model/artifacts/credit-scorecard
ARTIFACT := $(ARTIFACT_DIR)/model.json
PACKAGE_DIRS := libs/common model services/user services/credit services/gateway services/psp-sandbox examples/demo_merchant
PACKAGES := $(addprefix -e ,$(PACKAGE_DIRS))
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGE_DIRS))

.DEFAULT_GOAL := help
.PHONY: simulate wrk bench-scorers bench-datasize help install model train evaluate-model package-model bench-model run test test-fast lint fmt schema merchant-openapi constraints clean bench

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) constraints.txt requirements-dev.in $(PYPROJECTS)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -r requirements-dev.in $(PACKAGES)
	@touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install every package, pinned by constraints.txt

$(ARTIFACT): $(STAMP) model/data/credit_data.csv model/specs/credit_data.yaml $(wildcard model/src/bnpl_model/*.py)
	$(PY) -m bnpl_model train --data model/data/credit_data.csv --spec model/specs/credit_data.yaml --out $(ARTIFACT_DIR)

model: $(ARTIFACT) ## train the credit model artifact if missing or stale

train: $(STAMP) ## retrain the model and refresh the committed model card (model/report/)
	$(PY) -m bnpl_model train --data model/data/credit_data.csv --spec model/specs/credit_data.yaml \
	  --out $(ARTIFACT_DIR) --report-dir model/report --evaluation model/report/evaluation.json

evaluate-model: $(STAMP) ## 5x2 repeated stratified CV of the training procedure, with baselines (~3 min)
	$(PY) -m bnpl_model evaluate --data model/data/credit_data.csv --spec model/specs/credit_data.yaml \
	  --cv 5x2 --out model/report/evaluation.json

package-model: $(ARTIFACT) ## model.tar.gz for SageMaker (artifact + code/inference.py)
	$(PY) -m bnpl_model package --artifact $(ARTIFACT_DIR) --out model/artifacts/model.tar.gz

bench-model: $(ARTIFACT) ## single-row latency and batch throughput: numpy scorer vs scikit-learn
	$(PY) bench/bench_model.py

run: $(STAMP) $(ARTIFACT) ## start the whole platform locally (Ctrl-C stops it; data kept in .data/)
	$(PY) scripts/devstack.py run

test: $(STAMP) $(ARTIFACT) infra-tools ## run every test: lint and types first, then unit, end-to-end, browser, infrastructure lint
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest

test-fast: $(STAMP) ## unit tests only (no service processes)
	$(PY) -m pytest -m "not e2e" --ignore=tests/infra --ignore=tests/browser --ignore=tests/containers

bench: $(STAMP) $(ARTIFACT) wrk ## model scoring, then the ladder: hello world, GraphQL read, decisions (bench/results/)
	$(PY) bench/bench_model.py
	$(PY) bench/ladder.py

simulate: $(STAMP) $(ARTIFACT) ## simulated shoppers through the platform, the lake, then retrain (docs/examples/promotion-report.md)
	$(PY) scripts/simulate.py --shoppers $(or $(SHOPPERS),600) --bad-share 0.4 --min-rows 30 \
	  --report docs/examples/promotion-report.md

bench-scorers: $(STAMP) $(ARTIFACT) ## decision latency with the model over HTTP against in-process, in one run
	$(PY) bench/bench_decision.py

bench-datasize: $(STAMP) $(ARTIFACT) wrk ## CPU per decision before and after growing the credit tables to 1,000,000 rows
	$(PY) bench/datasize.py

# wrk, the ladder's load generator, is Debian's package: installed here when missing (as root).
wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

# Every step runs even when one fails, so one run lists every finding; the target fails if any did.
# deptry runs in each package's folder: that package's pyproject declares the dependencies its
# imports must match (its [tool.deptry] holds its own exceptions, with the reason).
lint: $(STAMP) ## ruff lint + format check, mypy (root pyproject), deptry for each package
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/mypy || status=1; \
	for pkg in $(PACKAGE_DIRS); do \
	  echo "deptry $$pkg"; \
	  (cd $$pkg && $(CURDIR)/$(VENV)/bin/deptry src --optional-dependencies-dev-groups test) || status=1; \
	done; \
	exit $$status

fmt: $(STAMP) ## format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schema: $(STAMP) ## export the gateway's GraphQL schema to services/gateway/schema.graphql
	$(PY) -m bnpl_gateway.export_schema

merchant-openapi: $(STAMP) ## export the merchant API's OpenAPI document to services/credit/merchant-openapi.json
	$(PY) -m bnpl_credit.merchant_openapi

constraints: $(STAMP) ## re-pin constraints.txt from the current virtualenv
	$(PIP) freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean: ## remove the virtualenvs, built artifacts and local data
	rm -rf $(VENV) $(INFRA_VENV) model/artifacts .data test-artifacts

include infra/make.mk
include containers.mk
