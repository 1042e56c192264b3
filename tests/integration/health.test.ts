import { getJson, sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();

describe('GET /api/health/', () => {
  test('reports ok with a latency for each dependency', async () => {
    const { status, body } = await getJson(`${url}/api/health/`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
    for (const dep of ['redis', 'sqs', 's3']) {
      expect(body.checks[dep].ok).toBe(true);
      expect(body.checks[dep].latency_ms).toBeGreaterThanOrEqual(0);
      expect(body.checks[dep].latency_ms).toBeLessThan(5000);
    }
    expect(body.checks.sqs.queue).toBe(sharedStack().env.QUEUE_NAME);
    expect(body.checks.s3.bucket).toBe(sharedStack().env.BUCKET_NAME);
  });

  test('answers without the trailing slash too', async () => {
    const { status, body } = await getJson(`${url}/api/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
  });
});
