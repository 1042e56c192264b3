#!/bin/bash
# LocalStack init hook (runs inside the container once LocalStack is ready): the same
# resources `npm start` creates with scripts/local/resources.ts and serverless.yml creates on AWS.
# tests/unit/localstack-init-script.test.ts runs it with the AWS CLI against the embedded
# emulator and fails if what it creates differs from what scripts/local/resources.ts creates.
# Safe to run twice: every step either creates or finds what is already there.
set -euo pipefail

REGION="${AWS_DEFAULT_REGION:-us-east-1}"
QUEUE_NAME="${QUEUE_NAME:-image-tasks.fifo}"
DLQ_NAME="${DLQ_NAME:-image-tasks-dlq.fifo}"
BUCKET_NAME="${BUCKET_NAME:-image-pipeline-local}"
VISIBILITY_TIMEOUT_S="${VISIBILITY_TIMEOUT_S:-60}"
MAX_RECEIVE_COUNT="${MAX_RECEIVE_COUNT:-3}"
# The worker classes of lib/worker/classes.ts, one FIFO queue each for DISPATCH_MODE=capability.
# A shell script cannot import that file, so this default is a copy the test compares with it.
WORKER_CLASSES="${WORKER_CLASSES:-io,cpu,all}"
# docker-compose.yml mounts the repo's static/ here.
STATIC_DIR="${STATIC_DIR:-/pipeline-static}"

case "$QUEUE_NAME" in
  *.fifo) ;;
  *) echo "image-pipeline: QUEUE_NAME must end in .fifo, got $QUEUE_NAME" >&2; exit 1 ;;
esac

dlq_url=$(awslocal sqs create-queue --region "$REGION" --queue-name "$DLQ_NAME" \
  --attributes FifoQueue=true,ContentBasedDeduplication=false,MessageRetentionPeriod=1209600 \
  --query QueueUrl --output text)
dlq_arn=$(awslocal sqs get-queue-attributes --region "$REGION" --queue-url "$dlq_url" \
  --attribute-names QueueArn --query Attributes.QueueArn --output text)

# The redrive policy is a JSON string inside the attributes JSON, hence a file. maxReceiveCount
# is a number, as scripts/local/resources.ts and serverless.yml write it.
attributes_file=$(mktemp)
trap 'rm -f "$attributes_file"' EXIT
cat > "$attributes_file" <<JSON
{"FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": "$VISIBILITY_TIMEOUT_S",
 "RedrivePolicy": "{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":$MAX_RECEIVE_COUNT}"}
JSON

# The task queue, then one per class named as lib/tasks/dispatch.ts routeQueueName names them:
# image-tasks.fifo -> image-tasks-io.fifo. All redrive into the one DLQ.
queues=("$QUEUE_NAME")
IFS=',' read -ra classes <<< "$WORKER_CLASSES"
for class in "${classes[@]}"; do
  queues+=("${QUEUE_NAME%.fifo}-$class.fifo")
done
for queue in "${queues[@]}"; do
  awslocal sqs create-queue --region "$REGION" --queue-name "$queue" \
    --attributes "file://$attributes_file" >/dev/null
done

# head-bucket first rather than ignoring create's errors, so an unreachable endpoint fails here.
if ! awslocal s3api head-bucket --bucket "$BUCKET_NAME" --region "$REGION" >/dev/null 2>&1; then
  awslocal s3 mb "s3://$BUCKET_NAME" --region "$REGION" >/dev/null
fi

# The files scripts/local/resources.ts uploads: names matching lib/images/source.ts IMAGE_FILE,
# with its content types. put-object is one PUT whatever the size, so the ETag is the MD5 that
# resources.ts compares (`aws s3 cp` goes multipart above 8 MB and guesses the type).
uploaded=0
if [ -d "$STATIC_DIR" ]; then
  for f in "$STATIC_DIR"/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.([A-Za-z]+)$ ]] || continue
    ext="${BASH_REMATCH[1],,}"
    case "$ext" in
      jpg | jpeg) type=image/jpeg ;;
      png) type=image/png ;;
      webp) type=image/webp ;;
      avif) type=image/avif ;;
      tif | tiff) type=image/tiff ;;
      *) continue ;;
    esac
    awslocal s3api put-object --region "$REGION" --bucket "$BUCKET_NAME" --key "source/$name" \
      --body "$f" --content-type "$type" >/dev/null
    uploaded=$((uploaded + 1))
  done
fi
echo "image-pipeline: queues ${queues[*]} (DLQ $DLQ_NAME, maxReceiveCount $MAX_RECEIVE_COUNT), bucket $BUCKET_NAME with $uploaded image(s) ready"
