/**
 * The JSON bodies the API answers with, as zod schemas: the OpenAPI document (./openapi.ts)
 * generates its response schemas from these. Objects are closed (no field that is not listed
 * here), so a field added to a response without adding it here fails the integration tests,
 * which check every response they receive against the document (tests/helpers/api-contract.ts).
 * The `satisfies` shapes tie the schemas of stored records to their TypeScript types.
 */
import { z } from 'zod';
import type { DependencyName } from '../core/dependencies';
import type { ResourceReport } from '../batch/monitor';
import { STRATEGIES } from '../batch/strategies';
import type { PoolInfo } from '../filters/pool';
import type { ProcessedImage, StepTiming } from '../filters/pipeline';
import type { StoredImage } from '../images/source';
import { TASK_SUMMARY_FIELDS, type AttemptRecord, type TaskRecord } from '../tasks/store';
import { TASK_STATUSES } from '../jobs/lua';
import { OUTPUT_FORMATS } from '../filters/output';
import { JOB_STATUSES } from '../jobs/schemas';
import type { WorkerView } from '../worker/registry';

type Shape<T> = { [K in keyof Required<T>]: z.ZodType };

const int = () => z.number().int();
const ms = (description?: string) => (description ? z.number().meta({ description }) : z.number());
const isoTime = () => z.iso.datetime();
const nullable = <S extends z.ZodType>(s: S) => s.nullable();

// ---- errors ----

export const ERROR_CODES = [
  'validation_error',
  'not_found',
  'payload_too_large',
  'unsupported_media_type',
  'dependency_unavailable',
  'filter_crashed',
  'overloaded',
  'internal_error',
  'image_rejected',
  'filter_failed',
  'conflict',
  'unprocessable',
  'unauthorized',
  'rate_limited',
] as const;

/** lib/core/http.ts errorBody: the code, the message, the field it is about, and the error's details. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string().meta({ description: 'what is wrong, naming the field and the allowed range or values' }),
      field: z.string().optional().meta({ description: 'the request field, header or parameter the error is about (filter_params.blur.radius, images[2])' }),
      min: z.number().optional(),
      max: z.number().optional(),
      allowed: z.array(z.string()).optional(),
      valid_filters: z.array(z.string()).optional(),
      max_bytes: int().optional(),
      max_depth: int().optional(),
      pixels: int().optional(),
      budget: int().optional(),
      in_flight_pixels: int().optional(),
      dependency: z.string().optional().meta({ description: `the dependency that did not answer (${['redis', 'sqs', 's3', 'lambda', 'secrets'] satisfies DependencyName[]}, or dashboard when it is not built)` }),
      retry_after_s: int().optional().meta({ description: 'also sent as Retry-After' }),
    }),
  })
  .meta({ description: 'every 4xx and 5xx answer but the health check' });

// ---- health ----

const check = <E extends z.core.$ZodLooseShape>(extra: E) =>
  z.object({ ok: z.boolean(), latency_ms: ms(), error: z.string().optional().meta({ description: 'what kind of failure; details are in the server log' }), ...extra });

export const HealthBody = z.object({
  status: z.enum(['ok', 'unavailable']),
  version: z.string(),
  stage: z.string(),
  uptime_s: z.number(),
  aws_endpoint: z.string().meta({ description: "the emulator's URL, or aws" }),
  checks: z.object({
    redis: check({ url: z.string().optional().meta({ description: 'without its password' }) }),
    sqs: check({ queue: z.string().optional(), visible_messages: int().optional() }),
    s3: check({ bucket: z.string().optional() }),
  }),
  failing: z.array(z.enum(['redis', 'sqs', 's3'])).optional(),
  error: z.object({ code: z.literal('dependency_unavailable'), message: z.string() }).optional(),
});

// ---- images ----

export const StoredImageSchema = z.object({
  name: z.string(),
  bytes: int(),
  last_modified: nullable(isoTime()),
} satisfies Shape<StoredImage>);

export const ImagesList = z.object({ images: z.array(StoredImageSchema) });

export const ImageInfo = z.object({
  name: z.string(),
  bytes: nullable(int()),
  content_type: z.string(),
  etag: nullable(z.string()),
  last_modified: nullable(isoTime()),
  width: nullable(int()),
  height: nullable(int()),
  megapixels: nullable(z.number()),
  format: nullable(z.string()),
  channels: nullable(int()),
  color_space: nullable(z.string()),
  bit_depth: nullable(z.string()).meta({ description: "libvips' band format, e.g. uchar" }),
  density_dpi: nullable(z.number()),
  chroma_subsampling: nullable(z.string()),
  progressive: z.boolean(),
  has_alpha: z.boolean(),
  has_exif: z.boolean(),
  has_icc_profile: z.boolean(),
  orientation: nullable(int()),
  available_images: z.array(StoredImageSchema),
});

export const ImageRedirect = z.object({
  name: z.string(),
  bytes: int(),
  location: z.url().meta({ description: 'a presigned GET URL, also in the Location header' }),
  reason: z.string(),
});

export const StoredUpload = z.object({
  name: z.string(),
  bytes: int(),
  format: z.string().meta({ description: "sharp's format name (jpeg, png, webp, heif, tiff)" }),
  width: int(),
  height: int(),
  key: z.string().meta({ description: 'the object key in the bucket (source/<name>)' }),
});

export const UploadStarted = z.object({
  upload_id: z.uuid(),
  name: z.string(),
  method: z.literal('PUT'),
  url: z.url().meta({ description: 'PUT the file here with exactly the headers below' }),
  headers: z.object({ 'Content-Type': z.string(), 'Content-Length': z.string() }),
  bytes: int(),
  expires_in_s: int(),
  max_bytes: int(),
  complete_url: z.string(),
});

// ---- filters and batch runs ----

const paramValue = z.union([z.number(), z.string(), z.boolean()]);

export const FiltersList = z.object({
  filters: z.array(
    z.object({
      name: z.string(),
      library: z.enum(['sharp', 'opencv']),
      bound: z.enum(['io', 'cpu']),
      description: z.string(),
      params: z.record(
        z.string(),
        z.union([
          z.object({ type: z.enum(['integer', 'number']), min: z.number(), max: z.number(), default: z.number(), description: z.string() }),
          z.object({ type: z.literal('string'), values: z.array(z.string()), default: z.string(), description: z.string() }),
          z.object({ type: z.literal('boolean'), default: z.boolean(), description: z.string() }),
        ]),
      ),
    }),
  ),
});

const strategy = z.enum(STRATEGIES);

const StepTimingSchema = z.object({ name: z.string(), ms: ms(), includes: z.array(z.enum(['decode', 'encode'])) } satisfies Shape<StepTiming>);

const processed = {
  width: int(),
  height: int(),
  channels: int(),
  decode_ms: ms('0 when fused into the first filter (see filters[].includes)'),
  encode_ms: ms(),
  filters: z.array(StepTimingSchema),
  total_ms: ms(),
  thread_id: int(),
  format: z.enum(OUTPUT_FORMATS),
} satisfies Shape<Omit<ProcessedImage, 'output'>>;

const BatchResult = z.object({
  index: int(),
  image: z.string(),
  copy: int(),
  key: z.string(),
  url: z.url().meta({ description: 'a presigned GET URL of the stored output' }),
  bytes: int(),
  ...processed,
});

const PoolInfoSchema = z.object({ id: z.string(), threads: int(), created_at: isoTime(), warm_ms: ms(), runs: int(), completed_tasks: int() } satisfies Shape<PoolInfo>);

const Resources = z.object({
  wall_ms: ms(),
  cpu: z.object({ user_pct: z.number(), system_pct: z.number(), total_pct: z.number().meta({ description: 'percent of one core' }), of_machine_pct: z.number(), cores: int() }),
  memory_mb: z.object({ rss_start: z.number(), rss_end: z.number(), rss_peak: z.number() }),
  event_loop: z.object({ delay_p50_ms: z.number(), delay_p99_ms: z.number(), delay_max_ms: z.number(), utilization: z.number() }),
  pool: PoolInfoSchema.nullable(),
  pool_threads: int(),
  threadpool_size: int(),
  concurrency: int(),
} satisfies Shape<ResourceReport & Record<'pool' | 'pool_threads' | 'threadpool_size' | 'concurrency', unknown>>);

const StepDescription = z.object({ name: z.string(), library: z.enum(['sharp', 'opencv']), params: z.record(z.string(), paramValue) });

export const BatchRun = z.object({
  run_id: z.string(),
  strategy,
  filters: z.array(StepDescription),
  results: z.array(BatchResult),
  totals: z.object({ images: int(), wall_ms: ms(), images_per_s: z.number(), fetch_ms: ms(), upload_ms: ms() }),
  resources: Resources,
});

export const StrategyComparison = z.object({
  run_id: z.string(),
  filters: z.array(StepDescription),
  workload: z.enum(['io-bound', 'cpu-bound', 'mixed']),
  images: int(),
  fetch_ms: ms(),
  strategies: z.partialRecord(strategy, z.object({ wall_ms: ms(), images_per_s: z.number(), upload_ms: ms(), resources: Resources, results: z.array(BatchResult) })),
  speedups: z.object({ baseline: strategy }).catchall(z.number()).meta({ description: 'each strategy against the baseline (wall time ratio)' }),
  winner: strategy,
  verdict: z.string(),
});

export const StressRun = z.object({
  run_id: z.string(),
  strategy,
  filters: z.array(StepDescription),
  images_per_iteration: int(),
  iterations: z.array(z.object({ iteration: int(), wall_ms: ms(), images_per_s: z.number(), rss_mb: z.number(), rss_peak_mb: z.number() })),
  summary: z.object({ iterations: int(), mean_ms: ms(), p50_ms: ms(), p95_ms: ms(), min_ms: ms(), max_ms: ms(), images_per_s: z.number() }),
  memory: z.object({ rss_after_first_mb: z.number(), rss_after_last_mb: z.number(), growth_mb: z.number(), grew: z.boolean() }),
  fetch_ms: ms(),
  stored_iteration: int(),
  results: z.array(BatchResult),
  upload_ms: ms(),
  resources: Resources,
});

// ---- distributed tasks ----

const dispatch = z.enum(['fifo', 'capability']);

export const Submitted = z.object({
  task_id: z.uuid().meta({ description: 'the first task (task_ids[0])' }),
  task_ids: z.array(z.uuid()).meta({ description: 'one task per image, in the order of images' }),
  job_id: z.uuid().meta({ description: 'the job this submission is (GET job_url)' }),
  job_url: z.string(),
  batch_id: z.uuid().meta({ description: 'the same as job_id' }),
  deadline_at: isoTime().optional().meta({ description: 'with deadline_s: when unfinished tasks become timed_out' }),
  status: z.literal('pending'),
  dispatch,
  route: z.string().optional().meta({ description: 'capability dispatch: the worker class whose queue carries the tasks' }),
  filters: z.array(z.string()),
  images: z.array(z.string()),
  status_url: z.string(),
  status_urls: z.array(z.string()),
});

const taskStatus = z.enum(TASK_STATUSES);
const failureType = z.enum(['job_failure', 'worker_failure']);

const AttemptSchema = z.object({ attempt: int(), worker_id: z.string(), started_at: isoTime(), outcome: z.string().optional() } satisfies Shape<AttemptRecord>);

const taskFields = {
  task_id: z.uuid(),
  batch_id: z.uuid(),
  status: taskStatus,
  image: z.string(),
  filters: z.array(z.string()),
  filter_params: z.record(z.string(), z.record(z.string(), paramValue)).meta({ description: 'each filter with its complete parameters' }),
  queued_at: isoTime(),
  started_at: nullable(isoTime()),
  finished_at: nullable(isoTime()),
  attempts: int(),
  worker_id: nullable(z.string()),
  attempt_history: z.array(AttemptSchema),
  queue_wait_ms: nullable(ms()),
  processing_ms: nullable(ms()),
  filter_ms: nullable(z.array(z.object({ name: z.string(), ms: ms() }))),
  timings: nullable(z.object({ claim_ms: ms(), fetch_ms: ms(), process_ms: ms(), store_ms: ms() })),
  result_key: nullable(z.string()),
  width: nullable(int()),
  height: nullable(int()),
  bytes: nullable(int()),
  error: nullable(z.string()),
  failure_type: nullable(failureType),
  failure_reason: nullable(z.string()),
  explanation: nullable(z.string()),
  last_error: nullable(z.string()),
  route: nullable(z.string()),
  sent_again_at: nullable(isoTime()),
  deadline_at: nullable(isoTime()),
  cancel_requested: nullable(z.literal('1')).meta({ description: "'1' once a cancel was asked while it was processing" }),
  output: nullable(z.object({ format: z.enum(OUTPUT_FORMATS), quality: int().optional(), keepMetadata: z.boolean() })).meta({ description: 'the submission output settings; null: JPEG' }),
} satisfies Shape<TaskRecord>;

const TaskRecordSchema = z.object(taskFields);

/** lib/tasks/status.ts taskStatus: the record, failure fields only for a failed task, the explanation and the result. */
export const TaskStatusBody = TaskRecordSchema.omit({ result_key: true, width: true, height: true, bytes: true }).extend({
  failure_type: taskFields.failure_type.optional().meta({ description: 'only when failed' }),
  failure_reason: taskFields.failure_reason.optional().meta({ description: 'only when failed' }),
  explanation: taskFields.explanation.meta({ description: 'why the task is not finished yet, or how it ended' }),
  result: z.object({ key: z.string(), url: nullable(z.url()), width: nullable(int()), height: nullable(int()), bytes: nullable(int()) }).nullable(),
});

const WorkerSchema = z.object({
  id: z.string(),
  capabilities: z.array(z.string()),
  alive: z.boolean(),
  status: z.enum(['idle', 'busy', 'offline', 'stopped']),
  current_task: nullable(z.string()),
  heartbeat_age_s: nullable(z.number()),
  processed: int(),
  failed: int(),
  mean_processing_ms: nullable(z.number()),
  pid: nullable(int()),
  host: nullable(z.string()),
  started_at: nullable(isoTime()),
  mapping_state: z.string().optional().meta({ description: 'WORKER_LIVENESS=event-source-mapping: the state of its SQS mappings' }),
  last_invocation: nullable(isoTime()).optional().meta({ description: 'WORKER_LIVENESS=event-source-mapping: when it last ran' }),
} satisfies Shape<WorkerView & Record<'mapping_state' | 'last_invocation', unknown>>);

const QueueDepth = { visible: int(), in_flight: int() };

const workersStatusFields = {
  workers: z.array(WorkerSchema),
  summary: z.object({ total: int(), alive: int(), busy: int(), offline: int(), capabilities_available: z.array(z.string()) }),
  queue: z.object({
    name: z.string(),
    ...QueueDepth,
    dead_letter: int(),
    routes: z.array(z.object({ route: z.string(), filters: z.array(z.string()), queue: z.string(), ...QueueDepth })).optional().meta({ description: 'capability dispatch: each class queue' }),
  }),
  tasks: z.object({
    completed: int(),
    failed: int(),
    failed_by_type: z.object({ job_failure: int(), worker_failure: int() }),
    success_rate: nullable(z.number()),
    mean_processing_ms: nullable(z.number()),
  }),
  liveness: z.enum(['heartbeat', 'event-source-mapping']),
  heartbeat: z.object({ interval_s: int(), offline_after_s: int() }),
  dispatch,
};

export const WorkersStatus = z.object(workersStatusFields);

export const DeadLetters = z.object({
  queue: z.string(),
  count: int(),
  messages: z.array(
    z.object({
      message_id: z.string(),
      task_id: z.unknown().meta({ description: "the body's task_id as it is (a string for a task message), or null" }),
      image: z.unknown().meta({ description: "the body's image as it is, or null" }),
      filters: z.array(z.unknown()).nullable().meta({ description: "the names of the body's steps, or null" }),
      receive_count: int(),
      sent_at: nullable(isoTime()),
      task_status: nullable(taskStatus),
      failure_reason: nullable(z.string()),
      readable: z.boolean().meta({ description: 'whether the body has steps and an image' }),
    }),
  ),
});

export const Redriven = z.object({
  redriven: int(),
  task_ids: z.array(z.uuid()),
  skipped: z.array(z.object({ message_id: z.string(), reason: z.string() })),
});

// ---- statistics and the dashboard ----

const Latency = z.object({ count: int(), mean: nullable(z.number()), p50: nullable(z.number()), p95: nullable(z.number()), p99: nullable(z.number()) });

const processFigures = {
  id: z.string(),
  pid: int(),
  host: z.string(),
  started_at: isoTime(),
  uptime_s: z.number(),
  memory_mb: z.object({ rss: z.number(), heap_used: z.number(), external: z.number() }),
  cpu: z.object({ user_s: z.number(), system_s: z.number(), percent: z.number() }),
};

export const Stats = z.object({
  since: nullable(isoTime()),
  requests: z.object({
    total: int(),
    by_status: z.record(z.string(), int()),
    by_endpoint: z.record(z.string(), z.object({ total: int(), by_status: z.record(z.string(), int()), latency_ms: Latency })).meta({ description: 'by route as declared ("GET /api/health/"), unmatched for the rest' }),
    in_flight: int(),
    latency_ms: Latency,
  }),
  instances: z.array(z.object({ ...processFigures, last_seen: int().meta({ description: 'epoch ms' }), last_seen_s_ago: z.number() })),
  this_instance: z.object({ ...processFigures, dropped_stat_samples: int() }),
  system: z.object({ loadavg: z.array(z.number()), cpus: int(), memory_mb: z.object({ total: z.number(), free: z.number() }) }),
});

const summaryFields = Object.fromEntries(TASK_SUMMARY_FIELDS.map((f) => [f, true])) as { [K in (typeof TASK_SUMMARY_FIELDS)[number]]: true };

export const Dashboard = z.object({
  time: z.number().meta({ description: 'epoch seconds' }),
  ...workersStatusFields,
  processing: z.object({
    samples: z.array(z.object({ t: z.number(), ms: ms() })),
    p50_ms: nullable(ms()),
    p95_ms: nullable(ms()),
    per_filter_mean_ms: z.record(z.string(), z.number()),
  }),
  failures_by_reason: z.record(z.string(), int()),
  timeline: z.object({ bucket_s: int(), points: z.array(z.object({ t: int(), completed: int(), failed: int() })) }),
  recent_tasks: z.array(TaskRecordSchema.pick(summaryFields)),
});

// ---- jobs ----

const jobStatus = z.enum(JOB_STATUSES);

const JobCounts = z.object({ total: int(), pending: int(), processing: int(), completed: int(), failed: int(), cancelled: int(), timed_out: int() });

const jobSummaryFields = {
  job_id: z.uuid(),
  status: jobStatus,
  counts: JobCounts.meta({ description: 'tasks by status, one consistent read: they sum to total' }),
  filters: z.array(z.string()),
  created_at: isoTime(),
  finished_at: nullable(isoTime()),
  deadline_at: nullable(isoTime()),
  notify_url: nullable(z.string()),
  job_url: z.string(),
};

export const JobSummary = z.object(jobSummaryFields);

/** lib/jobs/store.ts jobView */
export const JobView = z.object({
  ...jobSummaryFields,
  batch_id: z.uuid(),
  results: z.array(
    z.object({ task_id: z.uuid(), image: z.string(), status: z.literal('completed'), key: z.string(), url: z.url(), format: z.string(), width: nullable(int()), height: nullable(int()), bytes: nullable(int()) }),
  ),
  failures: z.array(
    z.object({ task_id: z.uuid(), image: z.string(), status: z.enum(['failed', 'cancelled', 'timed_out']), failure_type: nullable(failureType), failure_reason: nullable(z.string()), error: nullable(z.string()) }),
  ),
});

export const JobList = z.object({ jobs: z.array(JobSummary), next_cursor: nullable(z.string()) });

export const JobTasks = z.object({
  job_id: z.uuid(),
  tasks: z.array(
    z.object({
      task_id: z.uuid(),
      image: z.string(),
      status: taskStatus,
      attempts: int(),
      worker_id: nullable(z.string()),
      queued_at: isoTime(),
      started_at: nullable(isoTime()),
      finished_at: nullable(isoTime()),
      result_key: nullable(z.string()),
      failure_type: nullable(failureType),
      failure_reason: nullable(z.string()),
      error: nullable(z.string()),
      explanation: nullable(z.string()),
      status_url: z.string(),
    }),
  ),
  next_cursor: nullable(z.string()),
});

const cancelCounts = {
  cancelled: int().meta({ description: 'pending tasks cancelled now: they never start' }),
  stopping: int().meta({ description: 'tasks being processed, asked to stop at the next filter boundary' }),
  already_finished: int(),
};

export const JobCancelled = z.object({ job_id: z.uuid(), ...cancelCounts, job: JobSummary });
export const TaskCancelled = z.object({ task_id: z.uuid(), ...cancelCounts });

const JobEvent = z
  .object({
    seq: int().meta({ description: 'strictly increasing from 1 within the job' }),
    type: z.string().meta({ description: 'job.created, job.running, job.<terminal status>, task.<status>' }),
    job_id: z.uuid(),
    task_id: z.uuid().optional(),
    status: z.string(),
    at: isoTime(),
  })
  .catchall(z.unknown());

export const JobEvents = z.object({ job_id: z.uuid(), status: jobStatus, events: z.array(JobEvent), next_after: int(), ended: z.boolean() });

const DeliveryAttemptSchema = z.object({
  delivery_id: z.string().meta({ description: 'X-Pipeline-Delivery: <job_id>:<seq>, the same on every attempt at one event' }),
  seq: int(),
  type: z.string(),
  attempt: int(),
  at: isoTime(),
  status_code: nullable(int()),
  ms: z.number(),
  error: nullable(z.string()),
  outcome: z.enum(['delivered', 'retrying', 'failed']),
  next_attempt_at: isoTime().optional(),
  redelivery: z.boolean().optional(),
});

/** lib/jobs/webhooks.ts listDeliveries */
export const JobDeliveries = z.object({
  job_id: z.uuid(),
  notify_url: nullable(z.string()),
  cursor_seq: int(),
  next_attempt_at: nullable(isoTime()),
  receiver_down: z.boolean().meta({ description: 'an event failed every attempt and none has been delivered since: later events get one attempt each until one succeeds' }),
  failed_seqs: z.array(int()),
  redelivery_queued_seqs: z.array(int()),
  total: int(),
  offset: int(),
  limit: int(),
  deliveries: z.array(DeliveryAttemptSchema),
});

export const Redelivered = z.object({ job_id: z.uuid(), queued_seqs: z.array(int()), deliveries_url: z.string() });
