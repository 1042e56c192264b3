// Managed Redis on AWS (ElastiCache with in-transit encryption, Upstash, ...) speaks TLS only:
// a rediss:// REDIS_URL must turn TLS on in the client the pipeline creates, redis:// must not.
import { createRedis } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';

function optionsFor(url: string) {
  // Port 1 on loopback refuses at once; only the options matter here.
  const redis = createRedis(loadConfig({ REDIS_URL: url }));
  redis.on('error', () => undefined);
  const opts = redis.options;
  redis.disconnect();
  return opts;
}

test('rediss:// enables TLS and keeps the URL password', () => {
  const opts = optionsFor('rediss://:secret@127.0.0.1:1/0');
  expect(opts.tls).toBeTruthy();
  expect(opts.password).toBe('secret');
});

test('redis:// stays plain TCP', () => {
  expect(optionsFor('redis://127.0.0.1:1/0').tls).toBeFalsy();
});
