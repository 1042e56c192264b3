/**
 * Dependency checks for GET /api/health/. Each check is bounded by a timeout and runs in
 * parallel; nothing is cached, so the endpoint turns healthy again by itself as soon as a
 * dependency answers.
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { TimeoutError, withTimeout } from '../core/dependencies';
import { DependencyUnavailableError } from '../core/errors';
import { errorFields, log } from '../core/log';
import { round } from '../core/numbers';
import { taskQueueUrl } from '../tasks/queues';

export interface CheckResult {
  ok: boolean;
  latency_ms: number;
  error?: string;
  [extra: string]: unknown;
}

async function timed(ms: number, name: string, check: () => Promise<Record<string, unknown> | void>): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    const extra = (await withTimeout(ms, name, check())) ?? {};
    return { ok: true, latency_ms: round(performance.now() - t0, 1)!, ...extra };
  } catch (e) {
    // The raw failure (addresses, SDK internals) goes to the log; the answer says only what kind of failure it was.
    const err = e instanceof DependencyUnavailableError ? e.cause : e;
    const timedOut = err instanceof TimeoutError;
    log.warn('health check failed', { dependency: name, ...errorFields(err) });
    return { ok: false, latency_ms: round(performance.now() - t0, 1)!, error: timedOut ? `no answer within ${ms} ms` : 'check failed; details are in the server log' };
  }
}

export async function checkHealth(deps: Clients) {
  const ms = deps.config.limits.dependencyTimeoutMs;
  const [redis, sqs, s3] = await Promise.all([
    timed(ms, 'redis', async () => {
      await deps.redis.ping();
      return { url: deps.config.redis.url.replace(/\/\/[^@]*@/, '//***@') };
    }),
    timed(ms, 'sqs', async () => {
      const QueueUrl = await taskQueueUrl(deps);
      const res = await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      return { queue: deps.config.aws.queueName, visible_messages: Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) };
    }),
    timed(ms, 's3', async () => {
      await deps.s3.send(new HeadBucketCommand({ Bucket: deps.config.aws.bucket }));
      return { bucket: deps.config.aws.bucket };
    }),
  ]);
  const checks = { redis, sqs, s3 };
  const failing = Object.entries(checks)
    .filter(([, c]) => !c.ok)
    .map(([n]) => n);
  return {
    healthy: failing.length === 0,
    body: {
      status: failing.length === 0 ? 'ok' : 'unavailable',
      version: deps.config.version,
      stage: deps.config.stage,
      uptime_s: round(process.uptime(), 1),
      aws_endpoint: deps.config.aws.endpoint ?? 'aws',
      checks,
      ...(failing.length
        ? {
            failing,
            error: {
              code: 'dependency_unavailable',
              message: failing.map((n) => `${n} is unavailable: ${checks[n as keyof typeof checks].error}`).join('; '),
            },
          }
        : {}),
    },
  };
}
