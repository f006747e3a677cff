# The two commands of the README: `make run` and `make test`. Both build .venv from the pinned requirements.
# `make` alone lists the targets (`make help`); a target's `##` comment is its line there.
# Lambda's python3.13 (docs/deploying.md#runtime): pyenv's when installed, else python3.13 on PATH.
PYENV_PYTHON := $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13)
PYTHON ?= $(or $(lastword $(PYENV_PYTHON)),$(shell command -v python3.13))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEED ?= 20261126
CASES ?= 5000
STAGE ?= salesforce-prod
OUT ?= build
WITH_REGION := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-3}

.DEFAULT_GOAL := help
.PHONY: help run test quick fuzz lint bench bench-coldstart package package-size stage ledger-table clean check-customer

help:  ## this list (the default target)
	@awk -F':' '/^[a-z][a-z-]*:/ && $$2 !~ /^=/ { text = $$0; sub(/^[^#]*(## *|$$)/, "", text); \
		printf "  make %-16s %s\n", $$1, text }' $(MAKEFILE_LIST)

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "python3.13 not found: install it (pyenv install 3.13) or run make PYTHON=/path/to/python3.13"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' || { echo "$(VENV) is not \
	Python 3.13 (Lambda's python3.13): make clean, then make test"; exit 2; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## sandbox customers + chalice local on :8000 (make run PORT=8080), Ctrl-C stops both
	@$(BIN)/python scripts/run_local.py $(if $(PORT),--port $(PORT))

test: lint  ## the whole suite, as CI runs it (lint first)
	$(BIN)/python -m pytest

# Most of the unit and functional tests' time is waiting (deadlines, slow customers, emulators), not computing:
# one worker per core (pytest-xdist), each test file on one worker so that its emulators start once.
quick: lint  ## the inner loop: lint, then the unit and functional tests on every core (no packaging, fuzzing, browser)
	$(BIN)/python -m pytest tests/unit tests/functional -m "not slow" -n auto --dist loadfile

fuzz: $(STAMP)  ## long schemathesis run: make fuzz CASES=5000 SEED=123; a failure prints its curl and the replay command
	FUZZ_CASES=$(CASES) FUZZ_SEED=$(SEED) $(BIN)/python -m pytest tests/fuzz -p no:cacheprovider -x -q --timeout=0

check-customer: $(STAMP)  ## a webhook customer's file, its examples, [a stage's variables], [a lead's request]: make check-customer FILE=customers/x.json [STAGE=x-dev] [LEAD=fixtures/...json]
	$(BIN)/python scripts/check_customer.py $(FILE) $(if $(filter-out file default,$(origin STAGE)),--stage $(STAGE)) $(if $(LEAD),--lead $(LEAD))

lint: $(STAMP)  ## ruff, mypy and vulture (dead code), as make test and make quick run them
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/vulture

bench: $(STAMP)  ## the plug against hand-written peers, per lead, DynamoDB calls, cold start, memory, PASS/FAIL (7 min)
	$(BIN)/python scripts/bench.py

bench-coldstart: $(STAMP)  ## only the cold start of make bench
	$(BIN)/python scripts/bench.py --coldstart-only

# A release stage's Lambda package, no AWS account used (docs/deploying.md): built by scripts/package.py from a
# clean copy of the project, with bytecode for Lambda's Python; the stage's table, grants, log group, alarms,
# dashboard and API key derived from the stage (scripts/stage_templates.py, deploy/sam-operations.json).
# $(OUT)/package = deployment.zip + sam.json; $(OUT)/terraform = deployment.zip + chalice.tf.json + our .tf.json.
package: $(STAMP)  ## make package STAGE=zoho-prod [OUT=build]: SAM in build/package, Terraform in build/terraform
	$(WITH_REGION) $(BIN)/python scripts/package.py $(STAGE) $(OUT)

package-size: $(STAMP)  ## what takes the space in build/package/deployment.zip (after make package)
	$(BIN)/python scripts/trim_package.py --sizes $(OUT)/package/deployment.zip

stage: $(STAMP)  ## make stage CUSTOMER=zoho: <customer>-testing and -prod in .chalice/config.json from deploy/releases/<customer>.json
	@test -n "$(CUSTOMER)" || { echo "usage: make stage CUSTOMER=<name> (deploy/releases/<name>.json)"; exit 2; }
	$(BIN)/python scripts/stages.py $(CUSTOMER)

ledger-table: $(STAMP)  ## make ledger-table TABLE=lead-plug-salesforce-prod-ledger: the ledger's table, for `chalice deploy`
	@test -n "$(TABLE)" || { echo "usage: make ledger-table TABLE=lead-plug-salesforce-prod-ledger"; exit 2; }
	$(BIN)/python scripts/ledger_table.py create --table $(TABLE)

clean:  ## remove .venv and the caches
	rm -rf $(VENV) .pytest_cache .chalice/deployments
