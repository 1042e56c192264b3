import { httpHandler, json } from '../lib/core/http';
import { readStats } from '../lib/observability/stats';

export const read = httpHandler(async (_req, deps) => json(200, await readStats(deps)));
