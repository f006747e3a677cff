# The two commands of the README: `make run` and `make test`. Both build .venv from the pinned requirements.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEED ?= 20261126
CASES ?= 5000

.PHONY: run test fuzz lint bench bench-coldstart package clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## sandbox customer + chalice local on :8000, Ctrl-C stops both
	$(BIN)/python scripts/run_local.py

test: $(STAMP)  ## the whole suite, as CI runs it
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

fuzz: $(STAMP)  ## long schemathesis run: make fuzz CASES=5000 SEED=123; a failure prints its curl and the replay command
	FUZZ_CASES=$(CASES) FUZZ_SEED=$(SEED) $(BIN)/python -m pytest tests/fuzz -p no:cacheprovider -x -q --timeout=0

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

bench-coldstart: $(STAMP)
	$(BIN)/python scripts/bench.py --coldstart-only

# The stage's Lambda package with its deploy artifacts, alarms and dashboard merged in (deploy/, written by
# scripts/operations_templates.py): SAM in build/package, Terraform in build/terraform. No AWS account used.
package: $(STAMP)  ## the prod stage's Lambda package: SAM (build/package) and Terraform (build/terraform)
	rm -rf build/package build/terraform
	find dispatcher -name __pycache__ -type d -prune -exec rm -rf {} +  # chalice would package stale bytecode
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-3} $(BIN)/chalice package --stage $${STAGE:-prod} \
		--merge-template deploy/sam-operations.json build/package
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-3} $(BIN)/chalice package --stage $${STAGE:-prod} \
		--pkg-format terraform build/terraform
	cp deploy/operations.tf.json build/terraform/
	@ls -l build/package build/terraform

clean:
	rm -rf $(VENV) .pytest_cache .chalice/deployments
