/**
 * Every HTTP route of serverless.yml with what it takes and answers, for the OpenAPI document
 * (./openapi.ts). Request schemas are the very ones the handlers parse with; a unit test keeps
 * this table and serverless.yml equal (tests/unit/openapi.test.ts). The catch-all route
 * (`*` `*`, the JSON 404 for anything else) has no place in an OpenAPI document and is
 * described in its introduction instead.
 */
import { z } from 'zod';
import type { Config } from '../core/config';
import { batchBodySchema } from '../batch/request';
import { IdempotencyHeaders } from '../tasks/idempotency';
import { TaskIdPath } from '../tasks/message';
import { DeadLettersQuery, RedriveBody } from '../tasks/dead-letters';
import { DistributedBody } from '../tasks/submit';
import { JobEventsQuery, JobIdPath, JobListQuery, JobTasksQuery } from '../jobs/schemas';
import { ImageQuery, slowQuerySchema } from '../images/serve';
import { CompleteUploadBody, MAX_DIRECT_UPLOAD_BYTES, startUploadBodySchema, UploadIdPath, UploadQuery } from '../images/uploads';
import { DashboardAssetPath } from '../observability/dashboard';
import { ReferenceAssetPath } from './reference';
import * as R from './responses';

export type Method = 'GET' | 'POST';

export interface HeaderDoc {
  description: string;
  schema: Record<string, unknown>;
}

export interface ResponseDoc {
  description: string;
  /** A JSON body (application/json). */
  json?: z.ZodType;
  /** Other media types: a JSON Schema each ({} for any bytes). */
  content?: Record<string, Record<string, unknown>>;
  headers?: Record<string, HeaderDoc>;
}

export interface RouteDoc {
  method: Method;
  /** As serverless.yml writes it, trailing slash included. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** No API key and no rate limit (health, the dashboard's and the reference's files). */
  public?: boolean;
  query?: (cfg: Config) => z.ZodObject;
  pathParams?: z.ZodObject;
  headers?: z.ZodObject;
  body?: { description: string; required: boolean } & ({ json: (cfg: Config) => z.ZodType } | { content: Record<string, Record<string, unknown>> });
  responses: Record<number, ResponseDoc>;
  /** Error statuses this route answers besides the ones every route can (see ./openapi.ts). */
  errors?: Record<number, string>;
}

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }): HeaderDoc => ({ description, schema });
const LOCATION = header('where the result is');
const IMAGE_BYTES = { 'image/*': {} };

const BATCH_ERRORS = {
  400: 'the body breaks a rule; the error names the field and the allowed range',
  404: 'an image in images does not exist',
  413: 'the batch is over the pixel budget of one API process (BATCH_PIXEL_BUDGET), or the body over 1 MB',
  422: 'an image is not decodable or over MAX_INPUT_PIXELS / MAX_INPUT_BYTES, or a filter failed on it',
};

function batchRoute(path: string, operationId: string, summary: string, description: string, json: z.ZodType, stress = false): RouteDoc {
  return {
    method: 'POST',
    path,
    operationId,
    summary,
    description,
    tag: 'batch',
    body: { description: 'the filters with their parameters, and which images', required: true, json: (cfg) => batchBodySchema(cfg, { stress }) },
    responses: { 200: { description: 'the outputs are stored under processed/<run_id>/ in the bucket; each result has a presigned URL', json } },
    errors: BATCH_ERRORS,
  };
}

export const ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'GET',
    path: '/api/health/',
    operationId: 'health',
    summary: 'Health of Redis, the task queue and the bucket',
    description: 'Each dependency checked in parallel within DEPENDENCY_TIMEOUT_MS; nothing is cached. 503 while any of them fails.',
    tag: 'health',
    public: true,
    responses: {
      200: { description: 'every dependency answered', json: R.HealthBody },
      503: { description: 'a dependency did not answer: the same body with `failing` and `error`', json: R.HealthBody },
    },
  },
  {
    method: 'GET',
    path: '/api/image/info/',
    operationId: 'imageInfo',
    summary: "An image's metadata, without its bytes",
    tag: 'images',
    query: () => ImageQuery,
    responses: { 200: { description: 'what the header says, and every image in the bucket', json: R.ImageInfo } },
    errors: { 400: 'name is not an image file name', 404: 'no such image' },
  },
  {
    method: 'GET',
    path: '/api/image/4k/',
    operationId: 'image4k',
    summary: 'An image as stored',
    tag: 'images',
    query: () => ImageQuery,
    responses: {
      200: { description: 'the stored bytes, with the Content-Type they were stored with', content: IMAGE_BYTES },
      307: { description: 'an image over 4 MB (API Gateway caps a response at 6 MB): its presigned URL', json: R.ImageRedirect, headers: { Location: LOCATION } },
    },
    errors: { 400: 'name is not an image file name', 404: 'no such image' },
  },
  {
    method: 'GET',
    path: '/api/image/slow/',
    operationId: 'imageSlow',
    summary: 'An image as stored, after a delay',
    description: 'The seed\'s "slow endpoint" for concurrency tests: waits `delay` seconds without holding a thread, then answers as GET /api/image/4k/.',
    tag: 'images',
    query: (cfg) => slowQuerySchema(cfg.limits.maxSlowDelayS),
    responses: {
      200: { description: 'the stored bytes', content: IMAGE_BYTES, headers: { 'X-Delay-S': header('the delay waited, in seconds', { type: 'number' }) } },
      307: { description: 'an image over 4 MB: its presigned URL', json: R.ImageRedirect, headers: { Location: LOCATION, 'X-Delay-S': header('the delay waited, in seconds', { type: 'number' }) } },
    },
    errors: { 400: 'delay out of range, or name not an image file name', 404: 'no such image' },
  },
  {
    method: 'GET',
    path: '/api/images/',
    operationId: 'listImages',
    summary: 'The images in the bucket',
    tag: 'images',
    responses: { 200: { description: 'by name', json: R.ImagesList } },
  },
  {
    method: 'POST',
    path: '/api/images/',
    operationId: 'uploadImage',
    summary: 'Upload an image (up to 10 MB)',
    description: 'The raw bytes as application/octet-stream. The file is verified (a fully decodable JPEG, PNG, WebP, AVIF or TIFF within MAX_INPUT_PIXELS, whose extension matches its format) before it is stored under source/.',
    tag: 'images',
    query: () => UploadQuery,
    body: { description: `the image file, 1 to ${MAX_DIRECT_UPLOAD_BYTES} bytes`, required: true, content: { 'application/octet-stream': {} } },
    responses: { 201: { description: 'stored', json: R.StoredUpload } },
    errors: {
      400: 'name is not an image file name, the extension does not match the format, or the body is empty',
      409: 'an image of that name exists (add ?overwrite=true)',
      413: `the body is over ${MAX_DIRECT_UPLOAD_BYTES} bytes: use POST /api/images/uploads/`,
      415: 'the body is not sent as application/octet-stream',
      422: 'not an image of an allowed format, over MAX_INPUT_PIXELS, or truncated',
    },
  },
  {
    method: 'POST',
    path: '/api/images/uploads/',
    operationId: 'startUpload',
    summary: 'Start a large upload: a presigned PUT URL',
    description: 'For files over 10 MB (up to MAX_INPUT_BYTES): PUT the file to `url` with exactly `headers`, then POST `complete_url`.',
    tag: 'images',
    body: { description: "the image's name and exact size", required: true, json: (cfg) => startUploadBodySchema(cfg.processing.maxInputBytes) },
    responses: { 201: { description: 'the URL, signed for that size and content type, valid for expires_in_s', json: R.UploadStarted } },
    errors: { 400: 'name is not an image file name, or bytes is not a size', 413: 'bytes is over MAX_INPUT_BYTES' },
  },
  {
    method: 'POST',
    path: '/api/images/uploads/{upload_id}/complete/',
    operationId: 'completeUpload',
    summary: 'Finish a large upload: verify the file and store it',
    tag: 'images',
    pathParams: UploadIdPath,
    body: { description: 'the name given to POST /api/images/uploads/', required: true, json: () => CompleteUploadBody },
    responses: { 201: { description: 'verified and stored; the staged file is removed either way', json: R.StoredUpload } },
    errors: {
      400: 'upload_id or name is wrong, or the extension does not match the format',
      404: 'nothing was PUT to the presigned URL',
      409: 'an image of that name exists (send overwrite: true)',
      413: 'the file is over MAX_INPUT_BYTES',
      422: 'not an image of an allowed format, over MAX_INPUT_PIXELS, or truncated',
    },
  },
  {
    method: 'GET',
    path: '/api/filters/',
    operationId: 'listFilters',
    summary: 'The filters, their libraries and parameters',
    tag: 'batch',
    responses: { 200: { description: 'each parameter with its type, range and default', json: R.FiltersList } },
  },
  batchRoute('/api/process-batch/sequential/', 'batchSequential', 'Process a batch one image at a time', 'The baseline: images one after another on the API process.', R.BatchRun),
  batchRoute('/api/process-batch/threading/', 'batchThreading', 'Process a batch concurrently on one thread', "Up to BATCH_CONCURRENCY images at once on the event loop: sharp's work runs on libuv's threadpool, like Python releasing the GIL.", R.BatchRun),
  batchRoute('/api/process-batch/multiprocessing/', 'batchMultiprocessing', 'Process a batch on the worker-thread pool', 'One image per pool thread (POOL_THREADS): OpenCV.js (WASM) runs on several cores at once.', R.BatchRun),
  batchRoute('/api/process-batch/compare/', 'batchCompare', 'Compare threading and multiprocessing on one batch', 'Both strategies over the same inputs, with speed-ups and a verdict that explains the winner.', R.StrategyComparison),
  batchRoute('/api/process-batch/compare-all/', 'batchCompareAll', 'Compare all three strategies on one batch', 'Sequential, threading and multiprocessing over the same inputs; speed-ups are against sequential.', R.StrategyComparison),
  batchRoute('/api/process-batch/stress/', 'batchStress', 'Run a batch repeatedly and watch memory', 'num_iterations runs of one strategy; the answer says whether memory grew beyond allocator noise.', R.StressRun, true),
  {
    method: 'POST',
    path: '/api/process-batch/distributed/',
    operationId: 'submitDistributed',
    summary: 'Submit tasks to the workers through the queue',
    description: 'One task per image, each its own SQS FIFO message; answers at once. Poll status_url (GET /api/task/{task_id}/status/).',
    tag: 'distributed',
    headers: IdempotencyHeaders,
    body: { description: 'the filters with their parameters, and which images (default: sample_4k.jpg)', required: true, json: () => DistributedBody },
    responses: {
      202: {
        description: 'accepted: the tasks are pending in the queue',
        json: R.Submitted,
        headers: { Location: header("the first task's status URL"), 'Idempotent-Replayed': header('true when this is the stored answer to an earlier request with the same Idempotency-Key') },
      },
    },
    errors: {
      400: 'the body or Idempotency-Key breaks a rule',
      404: 'an image in images does not exist',
      409: 'a request with this Idempotency-Key is still running',
      413: 'the body is over 1 MB',
      422: 'this Idempotency-Key was used with another body',
    },
  },
  {
    method: 'GET',
    path: '/api/task/{task_id}/status/',
    operationId: 'taskStatus',
    summary: "A task's status, timings and result",
    tag: 'distributed',
    pathParams: TaskIdPath,
    responses: { 200: { description: 'the task; `explanation` says why it is not finished or how it ended', json: R.TaskStatusBody } },
    errors: { 400: 'task_id is not a UUID', 404: 'no such task (or it expired after TASK_TTL_S)' },
  },
  {
    method: 'POST',
    path: '/api/task/{task_id}/cancel/',
    operationId: 'cancelTask',
    summary: 'Cancel one task',
    description: 'Pending: cancelled at once (a worker that receives it skips it). Processing: stops at the next filter boundary, or completes if in its last step. Cancelling again changes nothing.',
    tag: 'jobs',
    pathParams: TaskIdPath,
    responses: { 200: { description: 'what the cancel did', json: R.TaskCancelled } },
    errors: { 400: 'task_id is not a UUID', 404: 'no such task (or it expired after TASK_TTL_S)' },
  },
  {
    method: 'GET',
    path: '/api/jobs/',
    operationId: 'listJobs',
    summary: 'Jobs, newest first',
    tag: 'jobs',
    query: () => JobListQuery,
    responses: { 200: { description: 'a page of jobs; pass next_cursor for the next one', json: R.JobList } },
    errors: { 400: 'status, limit or cursor out of range' },
  },
  {
    method: 'GET',
    path: '/api/jobs/{job_id}/',
    operationId: 'jobView',
    summary: "A job's status, counts, results and failures",
    tag: 'jobs',
    pathParams: JobIdPath,
    responses: { 200: { description: 'the job', json: R.JobView } },
    errors: { 400: 'job_id is not a UUID', 404: 'no such job (or it expired after TASK_TTL_S)' },
  },
  {
    method: 'GET',
    path: '/api/jobs/{job_id}/tasks/',
    operationId: 'jobTasks',
    summary: "A job's tasks, in submission order, by status",
    tag: 'jobs',
    pathParams: JobIdPath,
    query: () => JobTasksQuery,
    responses: { 200: { description: 'a page of tasks', json: R.JobTasks } },
    errors: { 400: 'job_id, status, limit or cursor out of range', 404: 'no such job' },
  },
  {
    method: 'POST',
    path: '/api/jobs/{job_id}/cancel/',
    operationId: 'cancelJob',
    summary: 'Cancel a job',
    description: 'Its pending tasks never start; running ones stop at the next filter boundary. The job ends cancelled. Cancelling again changes nothing.',
    tag: 'jobs',
    pathParams: JobIdPath,
    responses: { 200: { description: 'what the cancel did, and the job after it', json: R.JobCancelled } },
    errors: { 400: 'job_id is not a UUID', 404: 'no such job' },
  },
  {
    method: 'GET',
    path: '/api/jobs/{job_id}/events/',
    operationId: 'jobEvents',
    summary: "A job's ordered event log",
    description:
      'JSON pages by default. With Accept: text/event-stream, Server-Sent Events served as long polls: each response waits up to 15 s for events after Last-Event-ID, sends them (id: = seq) with retry:, and the client reconnects; after the terminal job event the next request answers 204.',
    tag: 'jobs',
    pathParams: JobIdPath,
    query: () => JobEventsQuery,
    headers: z.object({ 'Last-Event-ID': z.string().optional().meta({ description: 'SSE: the last seq received (an EventSource sends it when it reconnects)' }) }),
    responses: {
      200: { description: 'events after the resume point', json: R.JobEvents, content: { 'text/event-stream': { type: 'string' } } },
      204: { description: 'SSE: the log ended before the resume point (the job is finished); an EventSource stops. No body.', content: { 'text/event-stream': { type: 'string', maxLength: 0 } } },
    },
    errors: { 400: 'job_id, after, limit or Last-Event-ID out of range', 404: 'no such job' },
  },
  {
    method: 'GET',
    path: '/api/jobs/{job_id}/deliveries/',
    operationId: 'jobDeliveries',
    summary: "Every webhook delivery attempt of a job's events",
    description: 'Oldest first, with where the sender is (docs/webhooks.md).',
    tag: 'jobs',
    pathParams: JobIdPath,
    query: () =>
      z.object({
        offset: z.string().optional().meta({ description: 'attempts to skip (0 to 100000000, default 0)' }),
        limit: z.string().optional().meta({ description: 'at most this many (1 to 1000, default 1000)' }),
      }),
    responses: { 200: { description: 'the attempts', json: R.JobDeliveries } },
    errors: { 400: 'job_id, offset or limit out of range', 404: 'no such job' },
  },
  {
    method: 'POST',
    path: '/api/jobs/{job_id}/deliveries/redeliver/',
    operationId: 'redeliverJob',
    summary: "Send a job's failed webhook deliveries again",
    tag: 'jobs',
    pathParams: JobIdPath,
    responses: {
      200: { description: 'nothing had failed', json: R.Redelivered },
      202: { description: 'the failed events are queued for the sender, in seq order', json: R.Redelivered },
    },
    errors: { 400: 'job_id is not a UUID, or a body with fields', 404: 'no such job', 422: 'the job has no notify_url' },
  },
  {
    method: 'GET',
    path: '/api/workers/status/',
    operationId: 'workersStatus',
    summary: 'Workers, queue depth and task outcomes',
    tag: 'distributed',
    responses: { 200: { description: 'every worker known, alive or not', json: R.WorkersStatus } },
  },
  {
    method: 'GET',
    path: '/api/dlq/',
    operationId: 'listDeadLetters',
    summary: 'The messages in the dead-letter queue',
    description: 'Looks at up to `max` messages (SQS lets anyone look only by receiving them, for 1 s).',
    tag: 'distributed',
    query: () => DeadLettersQuery,
    responses: { 200: { description: 'each message with its task, if the task is still recorded', json: R.DeadLetters } },
    errors: { 400: 'max out of range' },
  },
  {
    method: 'POST',
    path: '/api/dlq/redrive/',
    operationId: 'redriveDeadLetters',
    summary: 'Send dead letters back to their queue',
    description: "Up to `max` messages go back to work and their tasks back to pending; a message no worker could run (it breaks the API's own rules) stays in the dead-letter queue.",
    tag: 'distributed',
    body: { description: 'how many at most', required: false, json: () => RedriveBody },
    responses: { 200: { description: 'what was sent back and what was skipped, with why', json: R.Redriven } },
    errors: { 400: 'max out of range' },
  },
  {
    method: 'GET',
    path: '/api/stats/',
    operationId: 'stats',
    summary: 'Request statistics across every API instance',
    tag: 'observability',
    responses: { 200: { description: 'counts and latency percentiles by route and status, and each instance', json: R.Stats } },
  },
  {
    method: 'GET',
    path: '/api/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'observability',
    responses: { 200: { description: 'the Prometheus text format', content: { 'text/plain': { type: 'string' } } } },
  },
  {
    method: 'GET',
    path: '/api/dashboard/',
    operationId: 'dashboardData',
    summary: 'Everything the dashboard shows, in one request',
    tag: 'dashboard',
    responses: { 200: { description: 'workers, queue, outcomes, recent tasks, percentiles and a 10-minute timeline', json: R.Dashboard } },
  },
  {
    method: 'GET',
    path: '/dashboard/',
    operationId: 'dashboardPage',
    summary: 'The dashboard',
    tag: 'dashboard',
    public: true,
    responses: { 200: { description: 'its page', content: { 'text/html': { type: 'string' } } } },
    errors: { 404: 'no such file' },
  },
  {
    method: 'GET',
    path: '/dashboard/{asset}',
    operationId: 'dashboardAsset',
    summary: "The dashboard's files",
    tag: 'dashboard',
    public: true,
    pathParams: DashboardAssetPath,
    responses: { 200: { description: 'the file', content: { 'text/html': { type: 'string' }, 'text/javascript': { type: 'string' }, 'text/css': { type: 'string' } } } },
    errors: { 404: 'no such file' },
  },
  {
    method: 'GET',
    path: '/',
    operationId: 'root',
    summary: 'Links to the dashboard and the main endpoints',
    tag: 'dashboard',
    public: true,
    responses: { 200: { description: 'a page of links', content: { 'text/html': { type: 'string' } } } },
  },
  {
    method: 'GET',
    path: '/api/openapi.json',
    operationId: 'openapiDocument',
    summary: 'This document',
    description: "Generated from the schemas the handlers validate with, for this deployment's limits.",
    tag: 'reference',
    public: true,
    responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { type: 'object' } } } },
  },
  {
    method: 'GET',
    path: '/api/docs/',
    operationId: 'referencePage',
    summary: 'The API reference page (Swagger UI)',
    tag: 'reference',
    public: true,
    responses: { 200: { description: 'a page that renders GET /api/openapi.json', content: { 'text/html': { type: 'string' } } } },
  },
  {
    method: 'GET',
    path: '/api/docs/{asset}',
    operationId: 'referenceAsset',
    summary: "The reference page's files",
    description: 'Served from the swagger-ui-dist package, not a CDN.',
    tag: 'reference',
    public: true,
    pathParams: ReferenceAssetPath,
    responses: { 200: { description: 'the file', content: { 'text/html': { type: 'string' }, 'text/javascript': { type: 'string' }, 'text/css': { type: 'string' }, 'image/png': {} } } },
    errors: { 404: 'no such file' },
  },
];
