/** Turns a request's `filters` and `filter_params` into validated steps with defaults filled in. */
import { ValidationError } from '../core/errors';
import { numberInRange } from '../core/validate';
import { FILTER_NAMES, FILTERS, type FilterParams } from './registry';

export interface FilterStep {
  name: string;
  params: FilterParams;
}

export const MAX_FILTERS = 20;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function paramsFor(name: string, given: unknown): FilterParams {
  const def = FILTERS[name];
  const field = `filter_params.${name}`;
  if (given !== undefined && !isPlainObject(given)) {
    throw new ValidationError(`${field} must be an object of parameters (${Object.keys(def.params).join(', ')})`, { field });
  }
  const raw = (given ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(key in def.params)) {
      throw new ValidationError(`${field}.${key} is not a parameter of ${name}; valid: ${Object.keys(def.params).join(', ')}`, { field: `${field}.${key}` });
    }
  }
  const params: FilterParams = {};
  for (const [key, spec] of Object.entries(def.params)) {
    const value = raw[key];
    const f = `${field}.${key}`;
    if (value === undefined) params[key] = spec.default;
    else if (spec.kind === 'number') {
      if (typeof value !== 'number') throw new ValidationError(`${f} must be ${spec.integer ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}; got ${JSON.stringify(value)}`, { field: f, details: { min: spec.min, max: spec.max } });
      params[key] = numberInRange(value, f, spec.min, spec.max, { integer: spec.integer });
    } else if (spec.kind === 'enum') {
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        throw new ValidationError(`${f} must be one of ${spec.values.join(', ')}; got ${JSON.stringify(value)}`, { field: f, details: { allowed: spec.values } });
      }
      params[key] = value;
    } else {
      if (typeof value !== 'boolean') throw new ValidationError(`${f} must be true or false; got ${JSON.stringify(value)}`, { field: f });
      params[key] = value;
    }
  }
  def.check?.(params);
  return params;
}

export function parseFilterSteps(filters: unknown, filterParams: unknown): FilterStep[] {
  if (!Array.isArray(filters) || filters.length === 0 || filters.length > MAX_FILTERS) {
    throw new ValidationError(`filters must be a list of 1 to ${MAX_FILTERS} filter names from: ${FILTER_NAMES.join(', ')}`, {
      field: 'filters',
      details: { valid_filters: FILTER_NAMES },
    });
  }
  filters.forEach((f, i) => {
    if (typeof f !== 'string' || !(f in FILTERS) || !Object.hasOwn(FILTERS, f)) {
      throw new ValidationError(`filters[${i}]: unknown filter ${JSON.stringify(f)?.slice(0, 60)}; valid filters: ${FILTER_NAMES.join(', ')}`, {
        field: `filters[${i}]`,
        details: { valid_filters: FILTER_NAMES },
      });
    }
  });
  if (filterParams !== undefined && filterParams !== null && !isPlainObject(filterParams)) {
    throw new ValidationError('filter_params must be an object keyed by filter name', { field: 'filter_params' });
  }
  const given = (filterParams ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(FILTERS, key)) {
      throw new ValidationError(`filter_params.${key.slice(0, 60)}: unknown filter; valid filters: ${FILTER_NAMES.join(', ')}`, { field: `filter_params.${key.slice(0, 60)}` });
    }
    if (!filters.includes(key)) {
      throw new ValidationError(`filter_params.${key} is given but ${key} is not in filters`, { field: `filter_params.${key}` });
    }
  }
  const resolved = new Map<string, FilterParams>();
  return (filters as string[]).map((name) => {
    if (!resolved.has(name)) resolved.set(name, paramsFor(name, given[name]));
    return { name, params: resolved.get(name)! };
  });
}
