#!/usr/bin/env bash
# Deploy the platform to AWS: `make deploy ENV=dev` (infra/README.md has the whole procedure).
# Needs: aws CLI v2 with credentials for the target account, docker (buildx), the repo's venv.
# Inputs (environment):
#   ENV              dev | staging | prod                                    (default dev)
#   REGISTRY         ECR prefix, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/bnpl (required)
#   CERTIFICATE_ARN  ACM certificate of the gateway's HTTPS listener          (required)
#   ARTIFACT_BUCKET  S3 bucket for model.tar.gz                                (required)
#   AWS_REGION       target region (default: the CLI's)
#   ALARM_EMAIL, CORS_ALLOW_ORIGINS, SMS_ORIGINATION_IDENTITY (optional)
#   CHECKOUT_PUBLIC_URL              public URL of the checkout page (default https://<ALB DNS name>)
#   MERCHANT_INTEGRATION_ROLE_ARNS   comma list of merchant roles for the merchant API (optional)
#   MERCHANT_PRINCIPALS              ROLE_ARN=MERCHANT_ID pairs for those roles (with the roles)
#   PSP_PUBLISHABLE_KEY              the Stripe account's publishable key (pk_...), for the page's Payment Element
#   ENABLE_WAF (default true), WAF_RATE_LIMIT (requests per IP per 5 minutes, default 1000)
#   SES_IDENTITY_ARN, EMAIL_FROM     SES identity Cognito mails from (required for ENV=prod)
#   MODEL_SERVERLESS                 "true" for a serverless model endpoint (default: instance-backed)
#   ENABLE_NAT_GATEWAY, ALLOW_INTERNET_EGRESS  both "true" to open HTTPS to the internet (default off)
set -euo pipefail
cd "$(dirname "$0")/../.."
ENV=${ENV:-dev}
PYTHON=${PYTHON:-.venv/bin/python}
: "${REGISTRY:?set REGISTRY=<account>.dkr.ecr.<region>.amazonaws.com/bnpl}"
: "${CERTIFICATE_ARN:?set CERTIFICATE_ARN to an ACM certificate in the target region}"
: "${ARTIFACT_BUCKET:?set ARTIFACT_BUCKET to an S3 bucket for model.tar.gz}"
REGION=${AWS_REGION:-$(aws configure get region)}
TAG=$(git rev-parse --short=12 HEAD)$(git diff --quiet || echo "-dirty")
CFN=infra/cloudformation
stack() { echo "bnpl-${ENV}-$1"; }
deploy() {  # deploy <name> [Key=Value...]
  local name=$1; shift
  echo "== stack $(stack "$name")"
  aws cloudformation deploy --region "$REGION" --stack-name "$(stack "$name")" \
    --template-file "$CFN/$name.yaml" --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
    --tags project=bnpl env="$ENV" --parameter-overrides EnvName="$ENV" "$@"
}
# Package the model first: a missing artifact (`make model`) fails here, before any image is pushed.
echo "== model package"
"$PYTHON" -m bnpl_model package --artifact model/artifacts/credit-scorecard --out "build/model-$TAG.tar.gz"
MODEL_URL="s3://$ARTIFACT_BUCKET/bnpl/$ENV/model-$TAG.tar.gz"

echo "== images ($TAG) -> $REGISTRY"
aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "${REGISTRY%%/*}"
for name in gateway user credit model; do
  aws ecr describe-repositories --region "$REGION" --repository-names "${REGISTRY#*/}/$name" >/dev/null 2>&1 ||
    aws ecr create-repository --region "$REGION" --repository-name "${REGISTRY#*/}/$name" \
      --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true \
      --encryption-configuration encryptionType=KMS >/dev/null
  # Untagged images go after 7 days, only the 50 newest tagged ones stay (idempotent).
  aws ecr put-lifecycle-policy --region "$REGION" --repository-name "${REGISTRY#*/}/$name" \
    --lifecycle-policy-text "file://infra/ecr-lifecycle-policy.json" >/dev/null
  dockerfile=services/$name/Dockerfile; [ "$name" = model ] && dockerfile=model/Dockerfile
  if ! aws ecr describe-images --region "$REGION" --repository-name "${REGISTRY#*/}/$name" \
      --image-ids imageTag="$TAG" >/dev/null 2>&1; then
    docker build --platform linux/amd64 -f "$dockerfile" -t "$REGISTRY/$name:$TAG" .
    docker push "$REGISTRY/$name:$TAG"
  fi
done

# AWS::ApiGateway::Account is one setting per account and region: the bnpl-account stack owns it
# unless something else already set a CloudWatch role (then it is left alone).
if aws cloudformation describe-stacks --region "$REGION" --stack-name bnpl-account >/dev/null 2>&1 ||
   [ "$(aws apigateway get-account --region "$REGION" --query cloudwatchRoleArn --output text)" = "None" ]; then
  echo "== stack bnpl-account"
  aws cloudformation deploy --region "$REGION" --stack-name bnpl-account --template-file "$CFN/account.yaml" \
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --tags project=bnpl
else
  echo "== API Gateway already has a CloudWatch role in this account and region: bnpl-account not needed"
fi

prefix_list() {  # the region's AWS-managed prefix list of a gateway endpoint service
  aws ec2 describe-managed-prefix-lists --region "$REGION" \
    --filters "Name=prefix-list-name,Values=com.amazonaws.$REGION.$1" --query "PrefixLists[0].PrefixListId" --output text
}
deploy network DynamoDbPrefixListId="$(prefix_list dynamodb)" S3PrefixListId="$(prefix_list s3)" \
  EnableNatGateway="${ENABLE_NAT_GATEWAY:-false}"
deploy identity SesIdentityArn="${SES_IDENTITY_ARN:-}" EmailFrom="${EMAIL_FROM:-}"
deploy data
DATA_KEY=$(aws cloudformation list-exports --region "$REGION" \
  --query "Exports[?Name=='bnpl-$ENV-DataKeyArn'].Value" --output text)
aws s3 cp --region "$REGION" "build/model-$TAG.tar.gz" "$MODEL_URL" --sse aws:kms --sse-kms-key-id "$DATA_KEY"

deploy model ModelImageUri="$REGISTRY/model:$TAG" ModelDataUrl="$MODEL_URL" ModelVersion="$TAG" \
  Serverless="${MODEL_SERVERLESS:-false}"
deploy services ImageRegistry="$REGISTRY" ImageTag="$TAG" CertificateArn="$CERTIFICATE_ARN" \
  CorsAllowOrigins="${CORS_ALLOW_ORIGINS:-}" \
  SmsOriginationIdentity="${SMS_ORIGINATION_IDENTITY:-}" CheckoutPublicUrl="${CHECKOUT_PUBLIC_URL:-}" \
  MerchantIntegrationRoleArns="${MERCHANT_INTEGRATION_ROLE_ARNS:-}" \
  MerchantPrincipals="${MERCHANT_PRINCIPALS:-}" PspPublishableKey="${PSP_PUBLISHABLE_KEY:-}" \
  EnableWaf="${ENABLE_WAF:-true}" WafRateLimit="${WAF_RATE_LIMIT:-1000}" \
  AllowInternetEgress="${ALLOW_INTERNET_EGRESS:-false}"
deploy alarms AlarmEmail="${ALARM_EMAIL:-}"
aws cloudformation describe-stacks --region "$REGION" --stack-name "$(stack services)" \
  --query "Stacks[0].Outputs[?OutputKey=='GatewayUrl'].OutputValue" --output text
