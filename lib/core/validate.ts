/**
 * Request checks as zod schemas, and the one adapter that turns a failed parse into the
 * API's typed error: a message naming the field and the allowed range, the field, details
 * (the range, the allowed values) and the status. The same schemas generate the OpenAPI
 * document (lib/api/openapi.ts), so what is documented is what is enforced.
 *
 * A schema says how its own failures read with `explain(schema, fn)`; `parseWith` reports
 * the first failure in the order the fields are listed (see `orderKey`), so an input
 * wrong in several places always gets the same one answer.
 */
import { z } from 'zod';
import { AppError, ValidationError } from './errors';

/** A lower-case RFC 4122 UUID, as randomUUID() makes for task and upload ids. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DECIMAL = /^[+]?(\d+(\.\d*)?|\.\d+)$/;

type Issue = z.core.$ZodIssue;
type ErrorClass = new (message: string, opts?: { field?: string; details?: Record<string, unknown> }) => AppError;

/** What a failure at one schema becomes. */
export interface Explained {
  message: string;
  /** Default: the issue's path, as `filter_params.blur.radius` or `images[2]`; null: none. */
  field?: string | null;
  details?: Record<string, unknown>;
  /** Default: ValidationError (400). */
  error?: ErrorClass;
}

export interface ExplainContext {
  issue: Issue;
  /** The value as the request sent it (before any preprocessing), at the issue's path. */
  raw: unknown;
  /** The issue's path as a field name. */
  field: string;
  /** For an unknown key: the first one the request sent. */
  key?: string;
  /** What the schema's earlier explanation says (when `explain` is applied over another). */
  inherited?: () => Explained;
}

interface SchemaMeta {
  explain?: (ctx: ExplainContext) => Explained;
  /** Body-level rules, each a schema of just the fields it reads (see `strictBody`). */
  rules?: z.ZodType[];
  /** The order the children of this object are checked in, given the object holding it (default: its shape's order). */
  childOrder?: (parent: unknown) => readonly string[] | undefined;
}

/**
 * Keyed by the schema's definition, which `.meta()` and `.describe()` copies share (they
 * clone the schema, not its definition); `.min()`, `.optional()` and the like make a new one.
 */
const META = new WeakMap<object, SchemaMeta>();

function setMeta<S extends z.core.$ZodType>(schema: S, meta: SchemaMeta): S {
  const def = defOf(schema);
  META.set(def, { ...META.get(def), ...meta });
  return schema;
}

/** Says how a failure of this schema (its own, or an unknown key in it) reads. */
export function explain<S extends z.core.$ZodType>(schema: S, fn: (ctx: ExplainContext) => Explained): S {
  const previous = META.get(defOf(schema))?.explain;
  return setMeta(schema, { explain: previous ? (ctx) => fn({ ...ctx, inherited: () => previous(ctx) }) : fn });
}

/** Checks this object's keys in the order `order(parent)` gives instead of its shape's. */
export function checkChildrenInOrder<S extends z.core.$ZodType>(schema: S, order: (parent: unknown) => readonly string[] | undefined): S {
  return setMeta(schema, { childOrder: order });
}

/** An issue a refinement adds: its own message, and the field and details the error carries. */
export function customIssue(message: string, opts: { path?: PropertyKey[]; field?: string; details?: Record<string, unknown>; error?: ErrorClass; unknownKey?: boolean } = {}) {
  const { path, ...params } = opts;
  return { code: 'custom' as const, message, path, params: { ...params, explained: true } };
}

// ---- walking a schema along an issue's path ----

function defOf(schema: z.core.$ZodType): any {
  return (schema as any)._zod.def;
}

/** The schema a wrapper (optional, default, nullable, a pipe) stands for at the same path. */
function unwrapOnce(schema: z.core.$ZodType): z.core.$ZodType | undefined {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return def.innerType;
    case 'pipe':
      // A preprocess is pipe(transform, schema): the schema is what checks the value.
      return defOf(def.in).type === 'transform' ? def.out : def.in;
    default:
      return undefined;
  }
}

function layers(schema: z.core.$ZodType | undefined): z.core.$ZodType[] {
  const out: z.core.$ZodType[] = [];
  for (let s = schema; s; s = unwrapOnce(s)) out.push(s);
  return out;
}

function core(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  const all = layers(schema);
  return all[all.length - 1];
}

function child(schema: z.core.$ZodType | undefined, seg: PropertyKey): z.core.$ZodType | undefined {
  const s = core(schema);
  if (!s) return undefined;
  const def = defOf(s);
  if (def.type === 'object') return Object.hasOwn(def.shape, seg) ? def.shape[seg as string] : def.catchall;
  if (def.type === 'array') return def.element;
  if (def.type === 'record') return def.valueType;
  return undefined;
}

function metaOf(schema: z.core.$ZodType | undefined, key: keyof SchemaMeta) {
  for (const layer of layers(schema)) {
    const m = META.get(defOf(layer))?.[key];
    if (m) return m;
  }
  return undefined;
}

function shapeKeys(schema: z.core.$ZodType | undefined): string[] {
  const s = core(schema);
  return s && defOf(s).type === 'object' ? Object.keys(defOf(s).shape) : [];
}

function valueAt(value: unknown, seg: PropertyKey): unknown {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, seg) ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** An issue about a key itself (unknown, or not allowed here): it is ordered as that key, before the known ones. */
function keyIssuePath(issue: Issue): PropertyKey[] | undefined {
  if (issue.code === 'unrecognized_keys') return [...issue.path, issue.keys[0]];
  if (issue.code === 'custom' && issue.params?.unknownKey) return [...issue.path];
  return undefined;
}

/**
 * Where an issue sits in the order fields are checked: per level of its path, the key's
 * position (unknown keys first, in the order the request sent them; known keys in the
 * schema's order, or its `checkChildrenInOrder`; array items by index). A failure of a
 * whole value comes before failures inside it.
 */
function orderKey(issue: Issue, root: z.core.$ZodType, input: unknown): number[] {
  const keyPath = keyIssuePath(issue);
  const path = keyPath ?? issue.path;
  const key: number[] = [];
  let schema: z.core.$ZodType | undefined = root;
  let value = input;
  let parent: unknown;
  for (let d = 0; d < path.length; d++) {
    const seg = path[d];
    if (keyPath && d === path.length - 1) {
      key.push(-1, value !== null && typeof value === 'object' ? Object.keys(value).indexOf(String(seg)) : 0);
    } else if (typeof seg === 'number') key.push(seg);
    else {
      const order = (metaOf(schema, 'childOrder') as SchemaMeta['childOrder'])?.(parent) ?? shapeKeys(schema);
      const i = order.indexOf(String(seg));
      key.push(i < 0 ? Number.MAX_SAFE_INTEGER : i);
    }
    parent = value;
    schema = child(schema, seg);
    value = valueAt(value, seg);
  }
  return key;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The issue's schema and the raw value at its path. */
function locate(issue: Issue, root: z.core.$ZodType, input: unknown) {
  let schema: z.core.$ZodType | undefined = root;
  let value = input;
  for (const seg of issue.path) {
    schema = child(schema, seg);
    value = valueAt(value, seg);
  }
  return { schema, raw: value };
}

/** The typed error the first issue (in checking order) stands for. */
export function issueError(issues: readonly Issue[], root: z.core.$ZodType, input: unknown): AppError {
  const ranked = issues.map((issue, i) => ({ issue, i, key: orderKey(issue, root, input) }));
  ranked.sort((a, b) => compareKeys(a.key, b.key) || a.i - b.i);
  const issue = ranked[0].issue;
  if (issue.code === 'custom' && issue.params?.explained) {
    const p = (issue.params ?? {}) as { field?: string; details?: Record<string, unknown>; error?: ErrorClass };
    const Class = p.error ?? ValidationError;
    return new Class(issue.message, { field: p.field ?? formatPath(issue.path), details: p.details });
  }
  const { schema, raw } = locate(issue, root, input);
  const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const fn = metaOf(schema, 'explain') as SchemaMeta['explain'];
  const field = formatPath(key === undefined ? issue.path : [...issue.path, key]);
  if (!fn) return new ValidationError(`${field || 'request'}: ${issue.message}`, { field: field || undefined });
  const e = fn({ issue, raw: key === undefined ? raw : valueAt(raw, key), field, key });
  const Class = e.error ?? ValidationError;
  return new Class(e.message, { field: e.field === null ? undefined : (e.field ?? field), details: e.details });
}

/** The parsed value, or the typed error for the first thing wrong with `input`. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = [...r.error.issues];
  // A body-level rule whose fields are valid also counts when some other field failed:
  // which error comes first is decided by field order, not by what zod got to run.
  const seen = new Set(issues.map((i) => JSON.stringify([i.path, i.message])));
  for (const rule of (metaOf(schema, 'rules') as SchemaMeta['rules']) ?? []) {
    for (const i of rule.safeParse(input).error?.issues ?? []) {
      const k = JSON.stringify([i.path, i.message]);
      if (i.code === 'custom' && i.params?.explained && !seen.has(k)) {
        seen.add(k);
        issues.push(i);
      }
    }
  }
  throw issueError(issues, schema, input);
}

// ---- building blocks ----

/** `got …` the way the checks print a value that is not even the right type. */
export function shown(raw: unknown, max = 60): string {
  return JSON.stringify(raw)?.slice(0, max) ?? String(raw);
}

/**
 * z.number() in [min, max]; an integer by Number.isInteger, documented as `type: integer`.
 * Not zod's .int(): its failure stops every later check, and the body-level rules (images x
 * copies, a filter's parameters named in filters) must still run to take their turn.
 */
function rangedNumber(min: number, max: number, integer = false) {
  const n = z.number().min(min).max(max);
  return integer ? n.refine(Number.isInteger).meta({ type: 'integer' }) : n;
}

/**
 * A number within [min, max]. Accepts JSON numbers and plain decimal strings (query
 * strings are text); refuses hex, exponents, NaN, Infinity and empty strings. The
 * document shows it as the number it stands for.
 */
export function decimalNumber(min: number, max: number, opts: { integer?: boolean; unit?: string; description?: string } = {}) {
  const what = opts.integer ? 'an integer' : 'a number';
  const range = `${what} from ${min} to ${max}${opts.unit ? ` ${opts.unit}` : ''}`;
  const inner = rangedNumber(min, max, opts.integer);
  let schema = z.preprocess((v) => (typeof v === 'string' && DECIMAL.test(v.trim()) ? Number(v.trim()) : v), inner);
  if (opts.description) schema = schema.meta({ description: opts.description });
  return explain(schema, ({ raw, field }) => {
    const numeric = typeof raw === 'number' || (typeof raw === 'string' && DECIMAL.test(raw.trim()));
    return { message: `${field} must be ${range}; got ${numeric ? String(raw).slice(0, 60) : shown(raw)}`, details: { min, max } };
  });
}

/** A JSON number within [min, max] (filter parameters: no strings). */
export function jsonNumber(min: number, max: number, opts: { integer?: boolean; description?: string } = {}) {
  const what = opts.integer ? 'an integer' : 'a number';
  let schema = rangedNumber(min, max, opts.integer);
  if (opts.description) schema = schema.meta({ description: opts.description });
  return explain(schema, ({ raw, field }) => ({
    message: `${field} must be ${what} from ${min} to ${max}; got ${typeof raw === 'number' ? String(raw).slice(0, 60) : JSON.stringify(raw)}`,
    details: { min, max },
  }));
}

/**
 * A rule over several fields of a body: `check` sees them parsed and adds customIssue()s. It
 * runs whenever those fields are valid, whatever else in the body failed.
 */
export interface BodyRule<Shape extends z.core.$ZodLooseShape> {
  fields: Shape;
  check: (value: z.output<z.ZodObject<Shape>>, ctx: z.core.$RefinementCtx) => void;
}

export function bodyRule<Shape extends z.core.$ZodLooseShape>(fields: Shape, check: BodyRule<Shape>['check']): BodyRule<Shape> {
  return { fields, check };
}

/**
 * A body object that refuses unknown keys with `unknown field "x"; allowed: a, b`, and
 * applies the body-level rules after its fields.
 */
export function strictBody<Shape extends z.core.$ZodLooseShape>(shape: Shape, rules: BodyRule<any>[] = []) {
  const allowed = Object.keys(shape);
  const ruleSchemas = rules.map((r) => z.object(r.fields).superRefine(r.check));
  const obj = rules.length ? z.strictObject(shape).superRefine((value, ctx) => rules.forEach((r) => r.check(value as never, ctx))) : z.strictObject(shape);
  setMeta(obj, { rules: ruleSchemas });
  return explain(obj, ({ key, field }) =>
    key !== undefined
      ? { message: `unknown field ${JSON.stringify(key.slice(0, 60))}; allowed: ${allowed.join(', ')}`, field: key.slice(0, 60) }
      : { message: `${field || 'body'} must be a JSON object`, field: field || 'body' },
  );
}

// ---- the standalone checks other modules call ----

const singleField = new WeakMap<z.ZodType, Map<string, z.ZodObject>>();

/** `schema` checked as the value of `field`, so errors name that field. */
export function parseField<S extends z.ZodType>(schema: S, field: string, raw: unknown): z.output<S> {
  let byField = singleField.get(schema);
  if (!byField) singleField.set(schema, (byField = new Map()));
  let wrapper = byField.get(field);
  if (!wrapper) byField.set(field, (wrapper = z.object({ [field]: schema })));
  return (parseWith(wrapper, { [field]: raw }) as Record<string, z.output<S>>)[field];
}

export function numberInRange(raw: unknown, field: string, min: number, max: number, opts: { integer?: boolean; unit?: string } = {}): number {
  return parseField(decimalNumber(min, max, opts), field, raw);
}

export function optionalNumberInRange(raw: unknown, field: string, def: number, min: number, max: number, opts: { integer?: boolean; unit?: string } = {}): number {
  return raw === undefined ? def : numberInRange(raw, field, min, max, opts);
}
