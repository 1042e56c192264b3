import { httpHandler } from '../lib/http';
import { renderMetrics } from '../lib/metrics';

export const handler = httpHandler(async (_req, deps) => {
  const { contentType, body } = await renderMetrics(deps);
  return { statusCode: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' }, body };
});
