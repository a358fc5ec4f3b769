#!/usr/bin/env bash
# Delete the stacks of ENV in reverse order: `make destroy ENV=dev`. Retained (DeletionPolicy:
# Retain), so no customer data or record is lost by accident: the DynamoDB tables, both user
# pools, the data KMS key, the backup vault and the services' log groups. None has a fixed name,
# so the same ENV deploys again right away; infra/README.md "Destroy" and "Redeploy after
# destroy" tell how to import them back or delete them for good. The account-wide bnpl-account
# stack is shared by every environment and never deleted here.
set -euo pipefail
ENV=${ENV:-dev}
REGION=${AWS_REGION:-$(aws configure get region)}
for name in alarms services model data identity network; do
  stack="bnpl-${ENV}-${name}"
  echo "== deleting $stack"
  aws cloudformation delete-stack --region "$REGION" --stack-name "$stack"
  aws cloudformation wait stack-delete-complete --region "$REGION" --stack-name "$stack"
done
