/**
 * A corpus of request inputs for every check the HTTP API makes before it touches a
 * dependency, and a runner that gives each one to the request parsing and reports what came
 * back: the parsed value, or the error's class, status, code, message, field and details.
 * tests/fixtures/validation-corpus.json holds the corpus with the answers the hand-written
 * checks gave; tests/unit/validation-corpus.test.ts replays it against the zod schemas.
 * Regenerate (only to add cases, never to accept a changed answer):
 *   npx tsx tests/helpers/validation-corpus.ts > tests/fixtures/validation-corpus.json
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import { AppError } from '../../lib/core/errors';
import { parseBatchRequest } from '../../lib/batch/request';
import { parseDistributedRequest } from '../../lib/tasks/submit';
import { withIdempotency } from '../../lib/tasks/idempotency';
import { taskStatus } from '../../lib/tasks/status';
import { listDeadLetters, redriveDeadLetters } from '../../lib/tasks/dead-letters';
import { validateTaskMessage } from '../../lib/tasks/message';
import { parseImageQuery, parseSlowQuery } from '../../lib/images/serve';
import { completeUpload, startUpload, uploadDirect } from '../../lib/images/uploads';
import { numberInRange } from '../../lib/core/validate';

export type Case =
  | { kind: 'batch'; stress: boolean; body: unknown }
  | { kind: 'distributed'; body: unknown }
  | { kind: 'slow'; query: Record<string, string> }
  | { kind: 'image'; query: Record<string, string> }
  | { kind: 'upload'; mediaType: string; query: Record<string, string>; bodyBytes: number }
  | { kind: 'startUpload'; body: unknown }
  | { kind: 'completeUpload'; uploadId?: string; body: unknown }
  | { kind: 'dlqList'; query: Record<string, string> }
  | { kind: 'redrive'; body: unknown }
  | { kind: 'taskStatus'; taskId?: string }
  | { kind: 'idempotencyKey'; key?: string }
  | { kind: 'taskMessage'; message: unknown }
  | { kind: 'numberInRange'; raw: unknown; min: number; max: number; integer: boolean };

export type Outcome =
  | { ok: unknown }
  | { reached: string }
  | { error: { name: string; status: number; code: string; message: string; field?: string; details?: Record<string, unknown> } };

/** Thrown by the stand-in clients: reaching it means every check before the first dependency call passed. */
class Reached extends Error {
  constructor(readonly what: string) {
    super(`reached ${what}`);
  }
}

const cfg = loadConfig({});
const signer = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, endpoint: 'http://127.0.0.1:1' });

function standInClients(): Clients {
  const s3Send = async (cmd: { constructor: { name: string }; input: { Key?: string } }) => {
    const name = cmd.constructor.name;
    // completeUpload: the staged file is there and small; anything later is "reached".
    if (name === 'HeadObjectCommand' && cmd.input.Key?.startsWith('uploads/')) return { ContentLength: 10 };
    if (name === 'GetObjectCommand' && cmd.input.Key?.startsWith('uploads/')) return { Body: { transformToByteArray: async () => new Uint8Array(10) } };
    if (name === 'DeleteObjectCommand') return {};
    throw new Reached(`s3 ${name}`);
  };
  const reject = (what: string) => async () => {
    throw new Reached(what);
  };
  const redis = new Proxy({}, { get: (_t, p) => (p === 'status' ? 'ready' : reject(`redis ${String(p)}`)) });
  return {
    config: cfg,
    s3: Object.assign(Object.create(signer), { send: s3Send }) as unknown as Clients['s3'],
    sqs: { send: reject('sqs') } as unknown as Clients['sqs'],
    redis: redis as Clients['redis'],
    key: (...parts: string[]) => ['corpus', ...parts].join(':'),
  };
}

function reachedIn(e: unknown): string | undefined {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) if (c instanceof Reached) return c.what;
  return undefined;
}

export async function runCase(c: Case): Promise<Outcome> {
  const deps = standInClients();
  try {
    return { ok: await run(c, deps) };
  } catch (e) {
    const reached = reachedIn(e);
    if (reached) return { reached };
    if (e instanceof AppError) {
      return {
        error: {
          name: e.name,
          status: e.status,
          code: e.code,
          message: e.message,
          ...(e.field !== undefined ? { field: e.field } : {}),
          ...(e.details !== undefined ? { details: JSON.parse(JSON.stringify(e.details)) } : {}),
        },
      };
    }
    throw e;
  }
}

async function run(c: Case, deps: Clients): Promise<unknown> {
  switch (c.kind) {
    case 'batch':
      return parseBatchRequest(c.body as Record<string, unknown>, cfg, { stress: c.stress });
    case 'distributed':
      return parseDistributedRequest(c.body as Record<string, unknown>);
    case 'slow':
      return parseSlowQuery(c.query, cfg.limits.maxSlowDelayS);
    case 'image':
      return parseImageQuery(c.query);
    case 'upload':
      return uploadDirect(deps, { mediaType: c.mediaType, name: c.query.name, overwrite: c.query.overwrite, body: Buffer.alloc(c.bodyBytes) });
    case 'startUpload': {
      const r = await startUpload(deps, c.body as Record<string, unknown>);
      return { name: r.name, bytes: r.bytes, max_bytes: r.max_bytes, headers: r.headers };
    }
    case 'completeUpload':
      return completeUpload(deps, c.uploadId, c.body as Record<string, unknown>);
    case 'dlqList':
      return listDeadLetters(deps, c.query);
    case 'redrive':
      return redriveDeadLetters(deps, c.body as Record<string, unknown>);
    case 'taskStatus':
      return taskStatus(deps, c.taskId, async () => []);
    case 'idempotencyKey':
      return withIdempotency(deps, c.key, {}, async () => ({ status: 202, response: 'ran' }));
    case 'taskMessage':
      return validateTaskMessage(c.message as never);
    case 'numberInRange':
      return numberInRange(c.raw, 'n', c.min, c.max, { integer: c.integer });
  }
}

// ---- the corpus ----

/** A small deterministic PRNG (mulberry32), so the corpus is the same on every run. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ABSENT = Symbol('absent');
const UUID_A = '3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b';
const long = (c: string, n: number) => c.repeat(n);
const proto = (json: string) => JSON.parse(json) as unknown;

const POOLS = {
  filters: [ABSENT, ['blur'], ['resize', 'blur'], ['sharpen', 'edges'], ['edges', 'resize'], ['blur', 'blur'], ['resize', 'edges', 'blur', 'sharpen', 'brightness'], [], 'blur', ['sepia'], [42], ['blur', 'sepia'], ['sepia', 'blur', 7], Array(21).fill('blur'), Array(21).fill('x'), Array(20).fill('edges'), ['__proto__'], ['constructor'], ['toString'], null, [''], [null], [{}], [['blur']], [long('z', 100)], {}, 3, true],
  filter_params: [
    ABSENT, ABSENT, null, {}, [1], [], 3, 'x', true,
    { blur: { radius: 3 } }, { blur: { radius: 0.1 } }, { blur: { radius: '3' } }, { blur: { radius: null } }, { blur: { radius: true } }, { blur: { radius: [] } }, { blur: { radius: 100.5 } }, { blur: { sigma: 3 } }, { blur: 3 }, { blur: null }, { blur: [] }, { blur: 'x' },
    { sepia: {} }, { resize: { width: 10 } }, { resize: { width: 0, height: 'a' } }, { resize: { height: 'a', width: 0 } }, { resize: { width: 8192, height: 8192 } }, { resize: { width: 9000, height: 8000 } }, { resize: { width: 8000, height: 9000 } },
    { resize: { fit: 'stretch', width: 0 } }, { resize: { fit: 'inside', width: 800.5 } }, { resize: { fit: 3 } }, { resize: { width: 1e9 } }, { resize: { width: -0 } },
    { edges: { low_threshold: 200, high_threshold: 100 } }, { edges: { low_threshold: 200 } }, { edges: { high_threshold: 10 } }, { edges: { pre_blur: 'yes' } }, { edges: { low_threshold: -1, pre_blur: 1 } }, { edges: { pre_blur: 1, low_threshold: 2000, high_threshold: 1 } }, { edges: { pre_blur: false, low_threshold: 0, high_threshold: 0 } },
    { sharpen: { strength: 11 } }, { sharpen: { strength: 0 } }, { brightness: { factor: -1, amount: 2 } }, { brightness: { amount: 2, factor: -1 } }, { brightness: { factor: 10 } },
    proto('{"__proto__": {}}'), proto('{"constructor": {}}'), { toString: 1 }, proto('{"blur": {"__proto__": 1}}'),
    { resize: { width: 0 }, blur: { radius: 0 } }, { blur: { radius: 0 }, resize: { width: 0 } }, { sepia: {}, resize: { width: 0 } }, { resize: { width: 0 }, sepia: {} }, { blur: { radius: 0 }, sepia: {} },
    { sharpen: {}, edges: { low_threshold: 9, high_threshold: 1 } }, { edges: { low_threshold: 9, high_threshold: 1 }, sharpen: { strength: 99 } }, { blur: { radius: 0 }, brightness: 5 },
    { [long('k', 100)]: {} }, { blur: { [long('p', 100)]: 1 } }, { blur: { radius: 2, x: 1, y: 2 } },
  ],
  images: [ABSENT, ABSENT, [], 'sample_4k.jpg', ['sample_4k.jpg'], ['sample_4k.jpg', 'misurina-sunset.jpg'], ['../../etc/passwd'], ['..%2F..%2Fetc%2Fpasswd'], ['a.jpg', 3], [3, 'a.jpg'], [''], [null], [{}], Array(33).fill('a.jpg'), Array(32).fill('a.jpg'), Array(11).fill('a.jpg'), Array(10).fill('a.jpg'), ['A.JPG'], ['a..jpg'], [long('x', 130) + '.jpg'], [long('x', 100) + '.jpg'], ['ok.png', 'bad/x.jpg'], ['x.txt'], ['.hidden.jpg'], ['x.jpg\0'], null, {}, 7],
  copies: [ABSENT, ABSENT, 1, 16, 17, 0, -1, 2.5, '3', '3.5', ' 4 ', '0x10', '1e1', 'x', '', null, true, 11, 4, [], {}],
  num_iterations: [ABSENT, ABSENT, 1, 50, 51, 0, '5', 2.5, 'x', null, '1e1'],
  strategy: [ABSENT, ABSENT, 'threading', 'sequential', 'multiprocessing', 'fork', 3, null, '', 'Threading', ['threading']],
  extra: [{}, {}, {}, { filterz: ['blur'] }, { x: 1, y: 2 }, { [long('z', 100)]: 1 }, proto('{"__proto__": 1}'), { constructor: 1 }],
  imageName: [ABSENT, 'sample_4k.jpg', '', '../x.jpg', 'a.txt', 'A.JPEG', long('x', 200), 'x.jpg\\', '%2e%2e%2fx.jpg', ' a.jpg', 'a.jpg ', 'a..jpg', 'img.TiF'],
  delay: [ABSENT, '0', '1.5', ' 25 ', '25', '25.01', '-1', '1e1', '0x10', '', 'abc', 'NaN', 'Infinity', '.5', '5.', '+3', '3,5', long('9', 80)],
  overwrite: [ABSENT, 'true', 'false', 'yes', '', 'TRUE', '1'],
  bytes: [ABSENT, 1, 100, cfg.processing.maxInputBytes, cfg.processing.maxInputBytes + 1, cfg.processing.maxInputBytes + 0.5, 0, -1, 2.5, '100', 'x', null, 1e20, true],
  bodyOverwrite: [ABSENT, true, false, 'true', 'false', 'yes', 1, null, 0],
  uploadId: [ABSENT, '', 'not-a-uuid', UUID_A, UUID_A.toUpperCase(), `${UUID_A}x`, '../' + UUID_A],
  dlqMax: [ABSENT, '1', '100', '101', '0', '10.5', 'x', '', ' 7 ', '1e1', 5, 100, 101, 2.5, null, true],
  taskId: [ABSENT, '', 'abc', UUID_A, UUID_A.toUpperCase(), long('a', 200)],
  idemKey: [ABSENT, '', 'abc', 'has space', long('x', 255), long('x', 256), 'ü', '\t', 'key-1_2.3~'],
  mediaType: ['application/octet-stream', '', 'image/jpeg', 'application/json'],
  bodyBytes: [0, 10, 10 * 1024 * 1024 + 1],
};

type PoolName = keyof typeof POOLS;

function picker(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  /** A body with the given fields drawn from their pools (absent ones left out), plus extra keys, in a shuffled key order. */
  const body = (fields: [string, PoolName][], withExtra = true) => {
    const entries: [string, unknown][] = [];
    for (const [key, pool] of fields) {
      const v = pick(POOLS[pool] as readonly unknown[]);
      if (v !== ABSENT) entries.push([key, v]);
    }
    if (withExtra) for (const [k, v] of Object.entries(pick(POOLS.extra) as object)) entries.push([k, v]);
    const extraProto = withExtra && rand() < 0.03;
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
    // Built from JSON text, as jsonBody() builds every body: a "__proto__" key stays an own key.
    const text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}${extraProto ? `${entries.length ? ',' : ''}"__proto__":{"x":1}` : ''}}`;
    return JSON.parse(text) as Record<string, unknown>;
  };
  const query = (fields: [string, PoolName][]) => {
    const q: Record<string, string> = {};
    for (const [key, pool] of fields) {
      const v = pick(POOLS[pool] as readonly unknown[]);
      if (v !== ABSENT) q[key] = v as string;
    }
    return q;
  };
  return { pick, body, query };
}

const BATCH_FIELDS: [string, PoolName][] = [['filters', 'filters'], ['filter_params', 'filter_params'], ['images', 'images'], ['copies', 'copies']];
const STRESS_FIELDS: [string, PoolName][] = [...BATCH_FIELDS, ['num_iterations', 'num_iterations'], ['strategy', 'strategy']];

export function corpus(): Case[] {
  const rand = prng(20_261_206);
  const { pick, body, query } = picker(rand);
  const cases: Case[] = [];
  // One field at a time against a valid base, so every pool value is seen alone.
  for (const [key, pool] of STRESS_FIELDS) {
    for (const v of POOLS[pool] as readonly unknown[]) {
      if (v === ABSENT) continue;
      const b = { filters: ['blur'], [key]: v } as Record<string, unknown>;
      cases.push({ kind: 'batch', stress: true, body: b }, { kind: 'batch', stress: false, body: b }, { kind: 'distributed', body: b });
    }
  }
  for (const fp of POOLS.filter_params) {
    if (fp === ABSENT) continue;
    for (const filters of [['blur'], ['resize', 'blur', 'edges', 'sharpen', 'brightness'], ['edges', 'resize'], ['brightness', 'blur', 'resize']]) {
      cases.push({ kind: 'batch', stress: false, body: { filters, filter_params: fp } });
    }
  }
  // Then random mixtures, most of them wrong in more than one place: which error comes first counts too.
  for (let i = 0; i < 1000; i++) cases.push({ kind: 'batch', stress: rand() < 0.4, body: body(rand() < 0.5 ? STRESS_FIELDS : BATCH_FIELDS) });
  for (let i = 0; i < 300; i++) cases.push({ kind: 'distributed', body: body([...BATCH_FIELDS.slice(0, 3)]) });
  for (const delay of POOLS.delay) for (const name of POOLS.imageName) cases.push({ kind: 'slow', query: { ...(delay !== ABSENT ? { delay: delay as string } : {}), ...(name !== ABSENT ? { name: name as string } : {}) } });
  for (const name of POOLS.imageName) cases.push({ kind: 'image', query: name === ABSENT ? {} : { name: name as string } });
  for (const mediaType of POOLS.mediaType) for (const bodyBytes of POOLS.bodyBytes) for (let i = 0; i < 6; i++) cases.push({ kind: 'upload', mediaType, bodyBytes, query: query([['name', 'imageName'], ['overwrite', 'overwrite']]) });
  for (const bytes of POOLS.bytes) for (const name of POOLS.imageName) cases.push({ kind: 'startUpload', body: { ...(name !== ABSENT ? { name } : {}), ...(bytes !== ABSENT ? { bytes } : {}), ...(rand() < 0.2 ? { extra: 1 } : {}) } });
  for (const uploadId of POOLS.uploadId) {
    for (let i = 0; i < 12; i++) cases.push({ kind: 'completeUpload', ...(uploadId !== ABSENT ? { uploadId: uploadId as string } : {}), body: body([['name', 'imageName'], ['overwrite', 'bodyOverwrite']], rand() < 0.3) });
  }
  for (const max of POOLS.dlqMax) {
    if (typeof max === 'string') cases.push({ kind: 'dlqList', query: { max } });
    cases.push({ kind: 'redrive', body: max === ABSENT ? {} : { max, ...(rand() < 0.3 ? { other: 1 } : {}) } });
  }
  cases.push({ kind: 'dlqList', query: {} }, { kind: 'dlqList', query: { other: 'x' } });
  for (const taskId of POOLS.taskId) cases.push({ kind: 'taskStatus', ...(taskId !== ABSENT ? { taskId: taskId as string } : {}) });
  for (const key of POOLS.idemKey) cases.push({ kind: 'idempotencyKey', ...(key !== ABSENT ? { key: key as string } : {}) });
  // Task messages as a worker or a redrive reads them: the API's rules applied again.
  for (let i = 0; i < 200; i++) {
    const filters = pick(POOLS.filters);
    const names = Array.isArray(filters) ? filters.filter((f): f is string => typeof f === 'string') : ['blur'];
    const fp = pick(POOLS.filter_params);
    const params = fp !== null && typeof fp === 'object' && !Array.isArray(fp) ? (fp as Record<string, unknown>) : {};
    const image = pick(POOLS.imageName);
    cases.push({
      kind: 'taskMessage',
      message: {
        task_id: UUID_A,
        batch_id: UUID_A,
        image: image === ABSENT ? 'sample_4k.jpg' : image,
        steps: names.map((name) => ({ name, params: (Object.hasOwn(params, name) ? params[name] : {}) ?? {} })),
        queued_at: 1,
        ...(rand() < 0.2 ? { image_etag: pick(['"abc"', 'abc', 'a b', '', '"' + long('e', 201) + '"']) } : {}),
      },
    });
  }
  for (const raw of ['3.0', '0', '.5', ' 25 ', 2.5, 'abc', '-1', '25.01', '1e1', '0x10', 'NaN', 'Infinity', '', null, true, [], {}, Number.NaN, Number.POSITIVE_INFINITY, 26, -0.5, 3]) {
    for (const integer of [false, true]) cases.push({ kind: 'numberInRange', raw, min: 0, max: 25, integer });
  }
  return cases;
}

/** JSON cannot hold NaN or Infinity: they are written as tagged strings. */
export function encodeCase(c: Case): unknown {
  return JSON.parse(JSON.stringify(c, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v)));
}

export function decodeCase(raw: unknown): Case {
  return JSON.parse(JSON.stringify(raw), (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.$number === 'string' ? Number(v.$number) : v)) as Case;
}

if (require.main === module) {
  (async () => {
    const out: { case: unknown; outcome: Outcome }[] = [];
    for (const c of corpus()) out.push({ case: encodeCase(c), outcome: await runCase(c) });
    // Exit once written: a pipe takes the text asynchronously.
    process.stdout.write(JSON.stringify(out, null, 0).replace(/\},\{"case"/g, '},\n{"case"') + '\n', () => process.exit(0));
  })().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
}
