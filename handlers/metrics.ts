import { httpHandler } from '../lib/core/http';
import { renderMetrics } from '../lib/observability/metrics';

export const scrape = httpHandler(async (_req, deps) => {
  const { contentType, body } = await renderMetrics(deps);
  return { statusCode: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' }, body };
});
