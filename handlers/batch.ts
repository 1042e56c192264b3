import { compareStrategies, runBatch, stress as runStress } from '../lib/batch/service';
import { parseBatchRequest } from '../lib/batch/request';
import { STRATEGIES } from '../lib/batch/strategies';
import { describeFilters } from '../lib/filters/registry';
import { httpHandler, json, jsonBody } from '../lib/core/http';

export const sequential = httpHandler(async (req, deps) => json(200, await runBatch(deps, parseBatchRequest(jsonBody(req), deps.config), 'sequential')));
export const threading = httpHandler(async (req, deps) => json(200, await runBatch(deps, parseBatchRequest(jsonBody(req), deps.config), 'threading')));
export const multiprocessing = httpHandler(async (req, deps) =>
  json(200, await runBatch(deps, parseBatchRequest(jsonBody(req), deps.config), 'multiprocessing')),
);
export const compare = httpHandler(async (req, deps) =>
  json(200, await compareStrategies(deps, parseBatchRequest(jsonBody(req), deps.config), ['threading', 'multiprocessing'])),
);
export const compareAll = httpHandler(async (req, deps) => json(200, await compareStrategies(deps, parseBatchRequest(jsonBody(req), deps.config), STRATEGIES)));
export const stress = httpHandler(async (req, deps) => json(200, await runStress(deps, parseBatchRequest(jsonBody(req), deps.config, { stress: true }))));

/** GET /api/filters/ — the registry: names, libraries, parameters with defaults and ranges. */
export const filters = httpHandler(async () => json(200, { filters: describeFilters() }));

/** The pool's task, exported so a bundled deployment's worker threads can load it from this bundle. */
export { poolTask } from '../lib/filters/pool-task';
