import { NotFoundError } from '../lib/core/errors';
import { httpHandler } from '../lib/core/http';

/** Catch-all route: unknown paths get the API's JSON error shape, not the gateway's. */
export const unmatched = httpHandler(async (req) => {
  throw new NotFoundError(`no endpoint ${req.method} ${req.path}; see docs/api.md for the list of endpoints`);
});
