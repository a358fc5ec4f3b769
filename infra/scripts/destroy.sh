#!/usr/bin/env bash
# Delete the stacks of ENV in reverse order: `make destroy ENV=dev`. The DynamoDB tables, the
# user pool and the KMS key are retained (DeletionPolicy: Retain) so no customer data is lost by
# accident; infra/README.md "Destroy" tells how to delete them for good.
set -euo pipefail
ENV=${ENV:-dev}
REGION=${AWS_REGION:-$(aws configure get region)}
for name in alarms services model data identity network; do
  stack="bnpl-${ENV}-${name}"
  echo "== deleting $stack"
  aws cloudformation delete-stack --region "$REGION" --stack-name "$stack"
  aws cloudformation wait stack-delete-complete --region "$REGION" --stack-name "$stack"
done
