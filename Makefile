# The two commands of the README: `make run` and `make test`. Both build .venv from the pinned requirements.
# `make` alone lists the targets (`make help`); a target's `##` comment is its line there.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEED ?= 20261126
CASES ?= 5000
STAGE ?= prod
OUT ?= build
WITH_REGION := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-3}

.DEFAULT_GOAL := help
.PHONY: help run test quick fuzz lint bench bench-coldstart package ledger-table clean check-customer

help:  ## this list (the default target)
	@awk -F':' '/^[a-z][a-z-]*:/ && $$2 !~ /^=/ { text = $$0; sub(/^[^#]*(## *|$$)/, "", text); \
		printf "  make %-16s %s\n", $$1, text }' $(MAKEFILE_LIST)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## sandbox customers + chalice local on :8000 (make run PORT=8080), Ctrl-C stops both
	@$(BIN)/python scripts/run_local.py $(if $(PORT),--port $(PORT))

test: $(STAMP)  ## the whole suite, as CI runs it
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

quick: $(STAMP)  ## the inner loop: lint, unit and functional tests (no packaging, emulators, fuzzing, browser)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests/unit tests/functional -m "not slow"

fuzz: $(STAMP)  ## long schemathesis run: make fuzz CASES=5000 SEED=123; a failure prints its curl and the replay command
	FUZZ_CASES=$(CASES) FUZZ_SEED=$(SEED) $(BIN)/python -m pytest tests/fuzz -p no:cacheprovider -x -q --timeout=0

check-customer: $(STAMP)  ## a webhook customer's file, its examples, [a stage's variables], [a lead's request]: make check-customer FILE=customers/x.json [STAGE=x-dev] [LEAD=fixtures/...json]
	$(BIN)/python scripts/check_customer.py $(FILE) $(if $(filter-out file default,$(origin STAGE)),--stage $(STAGE)) $(if $(LEAD),--lead $(LEAD))

lint: $(STAMP)  ## ruff, as make test runs it
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

bench-coldstart: $(STAMP)
	$(BIN)/python scripts/bench.py --coldstart-only

# STAGE's Lambda package with its deploy artifacts merged in, no AWS account used: the ledger's table and policy
# (docs/deploying-the-ledger.md) and the alarms and dashboard (docs/operations.md, written by
# scripts/operations_templates.py). Chalice takes one --merge-template: scripts/merge_templates.py joins them.
# $(OUT)/package = deployment.zip + sam.json; $(OUT)/terraform = deployment.zip + chalice.tf.json + our .tf.json.
package: $(STAMP)  ## make package [STAGE=testing] [OUT=build]: SAM in build/package, Terraform in build/terraform
	@test -f deploy/sam-ledger-$(STAGE).json || { echo "no deploy/sam-ledger-$(STAGE).json: the $(STAGE) stage \
	has no DynamoDB ledger (prod and testing do)"; exit 2; }
	rm -rf $(OUT)/package $(OUT)/terraform
	find dispatcher -name __pycache__ -type d -prune -exec rm -rf {} +  # chalice would package stale bytecode
	mkdir -p $(OUT)
	$(BIN)/python scripts/merge_templates.py $(OUT)/sam-merge-$(STAGE).json deploy/sam-ledger-$(STAGE).json \
		deploy/sam-operations.json
	$(WITH_REGION) $(BIN)/chalice package --stage $(STAGE) --merge-template $(OUT)/sam-merge-$(STAGE).json \
		$(OUT)/package
	$(WITH_REGION) $(BIN)/chalice package --stage $(STAGE) --pkg-format terraform $(OUT)/terraform
	cp deploy/ledger.tf.json deploy/operations.tf.json $(OUT)/terraform/
	@ls -l $(OUT)/package $(OUT)/terraform

ledger-table: $(STAMP)  ## make ledger-table TABLE=lead-plug-ledger-prod: the ledger's table, for `chalice deploy`
	@test -n "$(TABLE)" || { echo "usage: make ledger-table TABLE=lead-plug-ledger-prod"; exit 2; }
	$(BIN)/python scripts/ledger_table.py create --table $(TABLE)

clean:  ## remove .venv and the caches
	rm -rf $(VENV) .pytest_cache .chalice/deployments
