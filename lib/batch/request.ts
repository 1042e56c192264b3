/** POST /api/process-batch/* bodies as zod schemas (the seed's bodies work verbatim). */
import { z } from 'zod';
import type { Config } from '../core/config';
import { bodyRule, customIssue, decimalNumber, explain, parseWith, strictBody } from '../core/validate';
import { filterFields, paramsNamedInFilters, stepsOf, type FilterStep } from '../filters/request';
import { imageListSchema } from '../images/source';
import { OutputSchema, type OutputSpec } from '../filters/output';
import { STRATEGIES, type Strategy } from './strategies';

export const MAX_COPIES = 16;
const DEFAULT_ITERATIONS = 5;
const DEFAULT_STRATEGY: Strategy = 'multiprocessing';

export interface BatchRequest {
  steps: FilterStep[];
  /** Image names; undefined = every image in the bucket's source/. */
  images?: string[];
  copies: number;
  iterations: number;
  strategy: Strategy;
  output?: OutputSpec;
}

const StrategySchema = explain(z.enum(STRATEGIES).meta({ description: 'how the stress run processes each iteration' }), () => ({
  message: `strategy must be one of ${STRATEGIES.join(', ')}`,
  details: { allowed: STRATEGIES },
}));

const schemas = new Map<string, ReturnType<typeof buildSchema>>();

function buildSchema(maxImages: number, maxIterations: number, stress: boolean) {
  const common = {
    ...filterFields,
    images: imageListSchema(maxImages, 'GET /api/image/info/ lists them').optional().meta({ description: `1 to ${maxImages} image names; default: every image in the bucket (GET /api/images/ lists them)` }),
    copies: decimalNumber(1, MAX_COPIES, { integer: true, description: `how many times each image is processed; images x copies is at most ${maxImages} (MAX_BATCH_IMAGES)` }).default(1),
    output: OutputSchema.optional(),
  };
  const stressFields = {
    num_iterations: decimalNumber(1, maxIterations, { integer: true, description: 'how many times the whole batch runs' }).default(DEFAULT_ITERATIONS),
    strategy: StrategySchema.default(DEFAULT_STRATEGY),
  };
  const shape = stress ? { ...common, ...stressFields } : common;
  const imagesTimesCopies = bodyRule({ images: common.images, copies: common.copies }, (value, ctx) => {
    if (value.images && value.images.length * value.copies > maxImages) {
      ctx.addIssue(
        customIssue(`images x copies must be at most ${maxImages} images per batch; got ${value.images.length} x ${value.copies}`, { path: ['copies'], field: 'copies', details: { max: maxImages } }),
      );
    }
  });
  return strictBody(shape, [paramsNamedInFilters, imagesTimesCopies]).transform((v): BatchRequest => {
    const s = v as typeof v & Partial<z.output<z.ZodObject<typeof stressFields>>>;
    return { steps: stepsOf(v), images: v.images, copies: v.copies, iterations: s.num_iterations ?? DEFAULT_ITERATIONS, strategy: s.strategy ?? DEFAULT_STRATEGY, output: v.output };
  });
}

/** The body schema of the batch endpoints (stress adds num_iterations and strategy), for this deployment's limits. */
export function batchBodySchema(cfg: Config, opts: { stress?: boolean } = {}) {
  const { maxBatchImages, maxStressIterations } = cfg.processing;
  const key = `${maxBatchImages}|${maxStressIterations}|${Boolean(opts.stress)}`;
  let s = schemas.get(key);
  if (!s) schemas.set(key, (s = buildSchema(maxBatchImages, maxStressIterations, Boolean(opts.stress))));
  return s;
}

export function parseBatchRequest(body: Record<string, unknown>, cfg: Config, opts: { stress?: boolean } = {}): BatchRequest {
  return parseWith(batchBodySchema(cfg, opts), body);
}
