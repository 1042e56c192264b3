import { checkHealth } from '../lib/observability/health';
import { httpHandler, json } from '../lib/core/http';

export const check = httpHandler(async (_req, deps) => {
  const { healthy, body } = await checkHealth(deps);
  return json(healthy ? 200 : 503, body);
}, { public: true });
