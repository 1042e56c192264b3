import { httpHandler, json } from '../lib/http';
import { readStats } from '../lib/stats';

export const handler = httpHandler(async (_req, deps) => json(200, await readStats(deps)));
