import { ConfigError, loadConfig } from '../../lib/core/config';

test('defaults make a working local configuration', () => {
  const c = loadConfig({});
  expect(c.http).toMatchObject({ host: '127.0.0.1', port: 8000, publicUrl: 'http://127.0.0.1:8000' });
  expect(c.aws).toMatchObject({ region: 'us-east-1', endpoint: undefined, queueName: 'image-tasks.fifo', dlqName: 'image-tasks-dlq.fifo', maxReceiveCount: 3 });
  expect(c.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', prefix: 'ip', autostart: true });
  expect(c.limits.maxSlowDelayS).toBe(25);
  expect(c.workers.prefetch).toBe(true);
  expect(c.local.serverlessLogLevel).toBe('warning');
});

test('WORKER_PREFETCH=false turns the runner\'s read-ahead off', () => {
  expect(loadConfig({ WORKER_PREFETCH: 'false' }).workers.prefetch).toBe(false);
});

test('empty strings count as unset (serverless.yml forwards unset variables as "")', () => {
  expect(loadConfig({ PORT: '', REDIS_URL: '  ', QUEUE_URL: '' }).http.port).toBe(8000);
  expect(loadConfig({ QUEUE_URL: '' }).aws.queueUrl).toBeUndefined();
});

test.each([
  [{ PORT: '0' }, /PORT must be an integer from 1 to 65535, got "0"/],
  [{ PORT: '80.5' }, /PORT must be an integer/],
  [{ QUEUE_NAME: 'tasks' }, /QUEUE_NAME .*\.fifo/],
  [{ BUCKET_NAME: 'Bad_Bucket' }, /BUCKET_NAME must be a valid S3 bucket name/],
  [{ REDIS_URL: 'http://x' }, /REDIS_URL must use redis: or rediss:/],
  [{ AWS_ENDPOINT_URL: 'not a url' }, /AWS_ENDPOINT_URL must be a URL/],
  [{ REDIS_AUTOSTART: 'maybe' }, /REDIS_AUTOSTART must be true\/false/],
  [{ WORKER_PREFETCH: 'sometimes' }, /WORKER_PREFETCH must be true\/false/],
  [{ WORKER_SOURCE_CACHE_MB: '-1' }, /WORKER_SOURCE_CACHE_MB must be an integer from 0 to 4096, got "-1"/],
  [{ MAX_SLOW_DELAY_S: '29' }, /MAX_SLOW_DELAY_S must be an integer from 0 to 28/],
  [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be debug, info, warn, error or silent/],
  [{ SLS_LOG_LEVEL: 'verbose' }, /SLS_LOG_LEVEL must be error, warning, notice, info or debug, got "verbose"/],
])('%j is refused with a message naming the variable', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('trailing slashes are dropped from URLs', () => {
  expect(loadConfig({ AWS_ENDPOINT_URL: 'http://localhost:4566/' }).aws.endpoint).toBe('http://localhost:4566');
});
