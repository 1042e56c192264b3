/**
 * A request's `filters` and `filter_params` as zod schemas built from the registry, and the
 * validated steps with defaults filled in. Errors name the filter, the parameter and the
 * allowed range (lib/core/validate.ts turns them into the API's ValidationError).
 */
import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { bodyRule, checkChildrenInOrder, customIssue, explain, jsonNumber, parseWith, strictBody } from '../core/validate';
import { FILTER_NAMES, FILTERS, type FilterParams, type ParamSpec } from './registry';

export interface FilterStep {
  name: string;
  params: FilterParams;
}

export const MAX_FILTERS = 20;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function paramSchema(spec: ParamSpec) {
  if (spec.kind === 'number') return jsonNumber(spec.min, spec.max, { integer: spec.integer, description: spec.description }).default(spec.default);
  if (spec.kind === 'enum') {
    const values = spec.values as [string, ...string[]];
    return explain(z.enum(values).meta({ description: spec.description }), ({ raw, field }) => ({
      message: `${field} must be one of ${values.join(', ')}; got ${JSON.stringify(raw)}`,
      details: { allowed: values },
    })).default(spec.default);
  }
  return explain(z.boolean().meta({ description: spec.description }), ({ raw, field }) => ({ message: `${field} must be true or false; got ${JSON.stringify(raw)}` })).default(spec.default);
}

/** One filter's parameters: only its own, each in range; then the filter's own cross-parameter check. */
function filterParamsSchema(name: string) {
  const def = FILTERS[name];
  const keys = Object.keys(def.params);
  const prefix = `filter_params.${name}`;
  const shape = Object.fromEntries(Object.entries(def.params).map(([k, spec]) => [k, paramSchema(spec)]));
  const checked = z
    .strictObject(shape)
    .superRefine((params, ctx) => {
      if (!def.check || ctx.issues.length) return;
      try {
        def.check(params as FilterParams);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        const field = e.field ?? prefix;
        const rest = field.startsWith(`${prefix}.`) ? field.slice(prefix.length + 1).split('.') : [];
        ctx.addIssue(customIssue(e.message, { path: rest, field, details: e.details }));
      }
    })
    .meta({ description: def.description });
  return explain(checked, ({ key, field }) =>
    key !== undefined ? { message: `${field} is not a parameter of ${name}; valid: ${keys.join(', ')}`, field } : { message: `${field} must be an object of parameters (${keys.join(', ')})` },
  );
}

const PARAMS = Object.fromEntries(FILTER_NAMES.map((n) => [n, filterParamsSchema(n)]));
/** Each filter's parameters when the request gives none. */
const DEFAULT_PARAMS: Record<string, FilterParams> = Object.fromEntries(FILTER_NAMES.map((n) => [n, PARAMS[n].parse({}) as FilterParams]));

const FILTER_LIST = FILTER_NAMES.join(', ');

export const FilterName = explain(z.enum(FILTER_NAMES as [string, ...string[]]), ({ raw, field }) => ({
  message: `${field}: unknown filter ${JSON.stringify(raw)?.slice(0, 60)}; valid filters: ${FILTER_LIST}`,
  details: { valid_filters: FILTER_NAMES },
}));

export const FilterNames = explain(z.array(FilterName).min(1).max(MAX_FILTERS).meta({ description: 'the filters to apply, in order; a filter may repeat' }), ({ field }) => ({
  message: `filters must be a list of 1 to ${MAX_FILTERS} filter names from: ${FILTER_LIST}`,
  field,
  details: { valid_filters: FILTER_NAMES },
}));

/**
 * Parameters by filter name, each optional. Checked in the order of `filters` next to it,
 * after any key that is not a filter or not in `filters`.
 */
export const FilterParamsSchema = checkChildrenInOrder(
  explain(
    z
      .strictObject(Object.fromEntries(FILTER_NAMES.map((n) => [n, PARAMS[n].optional()])))
      .meta({ description: 'parameters per filter name; a filter named here must be in filters; omitted parameters take their defaults' }),
    ({ key, field }) =>
      key !== undefined
        ? { message: `filter_params.${key.slice(0, 60)}: unknown filter; valid filters: ${FILTER_LIST}`, field: `filter_params.${key.slice(0, 60)}` }
        : { message: 'filter_params must be an object keyed by filter name', field },
  ),
  (parent) => {
    const filters = isPlainObject(parent) ? parent.filters : undefined;
    return Array.isArray(filters) ? filters.filter((f): f is string => typeof f === 'string') : undefined;
  },
);

/** The `filters` and `filter_params` fields of a request body. */
export const filterFields = { filters: FilterNames, filter_params: FilterParamsSchema.nullish() };

type FilterFields = { filters: string[]; filter_params?: Record<string, unknown> | null };

/** The body-level rule of a body with `filterFields`: a filter given parameters must be one of the filters. */
export const paramsNamedInFilters = bodyRule({ filters: FilterNames, filter_params: z.unknown() }, (value, ctx) => {
  if (!isPlainObject(value.filter_params)) return;
  for (const key of Object.keys(value.filter_params)) {
    if (Object.hasOwn(FILTERS, key) && !value.filters.includes(key)) {
      ctx.addIssue(customIssue(`filter_params.${key} is given but ${key} is not in filters`, { path: ['filter_params', key], field: `filter_params.${key}`, unknownKey: true }));
    }
  }
});

/** The steps of a parsed body with `filterFields`, each filter's parameters complete. */
export function stepsOf(value: FilterFields): FilterStep[] {
  return value.filters.map((name) => ({ name, params: (value.filter_params?.[name] as FilterParams | undefined) ?? { ...DEFAULT_PARAMS[name] } }));
}

const FilterStepsSchema = strictBody(filterFields, [paramsNamedInFilters]).transform(stepsOf);

export function parseFilterSteps(filters: unknown, filterParams: unknown): FilterStep[] {
  return parseWith(FilterStepsSchema, { filters, filter_params: filterParams });
}
