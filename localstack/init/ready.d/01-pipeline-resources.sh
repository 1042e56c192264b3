#!/bin/bash
# LocalStack init hook (runs inside the container once LocalStack is ready): the same
# resources `npm start` creates with scripts/local/resources.ts and serverless.yml creates on AWS.
set -euo pipefail

REGION="${AWS_DEFAULT_REGION:-us-east-1}"
QUEUE_NAME="${QUEUE_NAME:-image-tasks.fifo}"
DLQ_NAME="${DLQ_NAME:-image-tasks-dlq.fifo}"
BUCKET_NAME="${BUCKET_NAME:-image-pipeline-local}"
VISIBILITY_TIMEOUT_S="${VISIBILITY_TIMEOUT_S:-60}"
MAX_RECEIVE_COUNT="${MAX_RECEIVE_COUNT:-3}"

dlq_url=$(awslocal sqs create-queue --region "$REGION" --queue-name "$DLQ_NAME" \
  --attributes FifoQueue=true,ContentBasedDeduplication=false,MessageRetentionPeriod=1209600 \
  --query QueueUrl --output text)
dlq_arn=$(awslocal sqs get-queue-attributes --region "$REGION" --queue-url "$dlq_url" \
  --attribute-names QueueArn --query Attributes.QueueArn --output text)

# The redrive policy is a JSON string inside the attributes JSON, hence a file.
cat > /tmp/pipeline-queue-attributes.json <<JSON
{"FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": "$VISIBILITY_TIMEOUT_S",
 "RedrivePolicy": "{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":\"$MAX_RECEIVE_COUNT\"}"}
JSON
awslocal sqs create-queue --region "$REGION" --queue-name "$QUEUE_NAME" \
  --attributes file:///tmp/pipeline-queue-attributes.json >/dev/null

awslocal s3 mb "s3://$BUCKET_NAME" --region "$REGION" 2>/dev/null || true
if [ -d /pipeline-static ]; then
  for f in /pipeline-static/*.jpg /pipeline-static/*.jpeg /pipeline-static/*.png; do
    [ -f "$f" ] || continue
    awslocal s3 cp "$f" "s3://$BUCKET_NAME/source/$(basename "$f")" --region "$REGION" >/dev/null
  done
fi
echo "image-pipeline: queue $QUEUE_NAME (DLQ $DLQ_NAME, maxReceiveCount $MAX_RECEIVE_COUNT), bucket $BUCKET_NAME ready"
