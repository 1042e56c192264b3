/** Request-value checks whose errors name the field and the allowed range. */
import { ValidationError } from './errors';

/** A lower-case RFC 4122 UUID, as randomUUID() makes for task and upload ids. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * A number within [min, max]. Accepts JSON numbers and plain decimal strings (query
 * strings are text); rejects hex, exponents, NaN, Infinity and empty strings.
 */
export function numberInRange(raw: unknown, field: string, min: number, max: number, opts: { integer?: boolean; unit?: string } = {}): number {
  const what = opts.integer ? 'an integer' : 'a number';
  const range = `${what} from ${min} to ${max}${opts.unit ? ` ${opts.unit}` : ''}`;
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && DECIMAL.test(raw.trim())) n = Number(raw.trim());
  else throw new ValidationError(`${field} must be ${range}; got ${JSON.stringify(raw)?.slice(0, 60) ?? String(raw)}`, { field, details: { min, max } });
  if (!Number.isFinite(n) || n < min || n > max || (opts.integer && !Number.isInteger(n))) {
    throw new ValidationError(`${field} must be ${range}; got ${String(raw).slice(0, 60)}`, { field, details: { min, max } });
  }
  return n;
}

/** Refuses any body field not in `allowed`, naming it and listing the allowed ones. */
export function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(`unknown field ${JSON.stringify(key.slice(0, 60))}; allowed: ${allowed.join(', ')}`, { field: key.slice(0, 60) });
    }
  }
}

export function optionalNumberInRange(
  raw: unknown,
  field: string,
  def: number,
  min: number,
  max: number,
  opts: { integer?: boolean; unit?: string } = {},
): number {
  return raw === undefined ? def : numberInRange(raw, field, min, max, opts);
}
