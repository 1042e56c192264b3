/** Validation of POST /api/process-batch/* bodies (the seed's bodies work verbatim). */
import type { Config } from '../core/config';
import { ValidationError } from '../core/errors';
import { parseFilterSteps, type FilterStep } from '../filters/request';
import { validateImageList } from '../images/source';
import { optionalNumberInRange, rejectUnknownFields } from '../core/validate';
import { STRATEGIES, type Strategy } from './strategies';

export const MAX_COPIES = 16;

export interface BatchRequest {
  steps: FilterStep[];
  /** Image names; undefined = every image in the bucket's source/. */
  images?: string[];
  copies: number;
  iterations: number;
  strategy: Strategy;
}

const COMMON_KEYS = ['filters', 'filter_params', 'images', 'copies'];
const STRESS_KEYS = ['num_iterations', 'strategy'];

export function parseBatchRequest(body: Record<string, unknown>, cfg: Config, opts: { stress?: boolean } = {}): BatchRequest {
  rejectUnknownFields(body, opts.stress ? [...COMMON_KEYS, ...STRESS_KEYS] : COMMON_KEYS);
  const steps = parseFilterSteps(body.filters, body.filter_params);
  const max = cfg.processing.maxBatchImages;
  let images: string[] | undefined;
  if (body.images !== undefined) {
    images = validateImageList(body.images, max, 'GET /api/image/info/ lists them');
  }
  const copies = optionalNumberInRange(body.copies, 'copies', 1, 1, MAX_COPIES, { integer: true });
  if (images && images.length * copies > max) {
    throw new ValidationError(`images x copies must be at most ${max} images per batch; got ${images.length} x ${copies}`, { field: 'copies', details: { max } });
  }
  const iterations = optionalNumberInRange(body.num_iterations, 'num_iterations', 5, 1, cfg.processing.maxStressIterations, { integer: true });
  let strategy: Strategy = 'multiprocessing';
  if (body.strategy !== undefined) {
    if (typeof body.strategy !== 'string' || !(STRATEGIES as readonly string[]).includes(body.strategy)) {
      throw new ValidationError(`strategy must be one of ${STRATEGIES.join(', ')}`, { field: 'strategy', details: { allowed: STRATEGIES } });
    }
    strategy = body.strategy as Strategy;
  }
  return { steps, images, copies, iterations, strategy };
}
