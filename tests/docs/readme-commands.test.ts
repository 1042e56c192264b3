// The documented commands, run verbatim: every ```bash block preceded by
// `<!-- readme-test: run -->` in README.md and docs/getting-started.md is split into commands,
// each run with bash in a clean environment (`env -i PATH HOME`) against a real stack, and the
// JSON a page shows after a command (`# {...}` comment lines) must match what the command
// printed: the same fields, and the same values wherever they are stable. Every command block
// on those two pages must be marked, so a page that drifts from the code fails here.
//
// Rules, applied to the pages' text and nothing else:
//  - `http://localhost:8000` becomes the test stack's URL; `{TASK_ID}` becomes the task id
//    printed by the block's most recent distributed submission.
//  - `npm start` lines (`npm ci && npm start`, `VAR=value ... npm start`) are not run: they
//    select the stack the following lines run against, one started (scripts/start.ts, as
//    `npm start` does) with those variables (WORKERS defaulting to npm start's three workers);
//    lines before any such line use a stack with the default workers. `npm ci` is this test's
//    own set-up, already done.
//  - Skipped kinds, each reported as a skipped test with its reason: `watch ...` (interactive,
//    never exits), `npm test` (the suite this test is part of), and KNOWN_PENDING lines.
//  - `npm run worker -- <id>` lines are what a page runs "in another terminal": started in the
//    background (cwd: the project, as a user's shell) for the rest of the block, then stopped;
//    when the page says "the task completes" the last submitted task must end completed.
//    Other `npm run ...` lines run in the foreground from the project directory.
//  - Every command must exit 0. A `-o FILE` download must be a JPEG. A command showing JSON
//    that only reads (no -X POST) is re-run for up to 30 s until it matches, because the
//    page shows the state a task reaches, not the instant after submission.
//  - Matching: every field shown must exist (extra fields are fine; `...` stands for more);
//    strings, booleans and nulls must be equal, and numbers for the keys in STABLE_NUMBERS
//    (and the paths in STABLE_PATHS), except under UNVERIFIABLE keys (ids, timestamps,
//    measurements) where only presence counts; a string shown with `...` or `..` only has to
//    be a string; the pages' local queue, bucket and emulator address are rewritten to the
//    test stack's. Keys of the DATA_MAPS (by_status, by_endpoint) are data, not fields:
//    compared only when present.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../scripts/local/processes';
import { ROOT, startStack, type RunningStack } from '../helpers/stack';

const MARKER = '<!-- readme-test: run -->';
/** The stack a block uses before any `npm start` line: `npm start`'s default workers. */
const DEFAULT_WORKERS = 'worker-1,worker-2,worker-3';
/** The pages whose command blocks are run, relative to the project. */
const PAGES = ['README.md', 'docs/getting-started.md'];
/** Documented lines that cannot run yet, each with the reason (none today). */
const KNOWN_PENDING: Record<string, string> = {};
/** Lines that are never run here, by kind, each with the reason reported as a skipped test. */
const SKIPPED_KINDS: { pattern: RegExp; reason: string }[] = [
  { pattern: /^watch /, reason: 'interactive: it never exits' },
  { pattern: /^npm test$/, reason: 'the test suite this test is part of' },
];
/** Fence languages that hold commands: every such block on the pages must be marked. */
const COMMAND_FENCES = new Set(['bash', 'sh', 'shell', 'console', 'zsh']);
const STABLE_NUMBERS = new Set(['width', 'height', 'megapixels', 'channels', 'density_dpi', 'bytes', 'index', 'iteration', 'images', 'interval_s', 'offline_after_s', 'sequential']);
const UNVERIFIABLE = new Set(['run_id', 'key', 'url', 'since', 'task_id', 'batch_id', 'status_url', 'winner', 'verdict', 'grew', 'pid', 'current_task', 'mean_processing_ms', 'heartbeat_age_s']);
/** Numbers compared at these paths only (a block on a stack of its own shows exact counts). */
const STABLE_PATHS = new Set(['completed', 'failed']);
const UNVERIFIABLE_PATHS = new Set(['workers[].status', 'results[].bytes']);
const DATA_MAPS = new Set(['by_status', 'by_endpoint']);

interface Command {
  line: number;
  text: string;
  shown?: string;
}
interface Block {
  file: string;
  line: number;
  section: string;
  commands: Command[];
}

/** bash itself decides where a command ends (a `for ... done` spans lines). */
function syntaxComplete(text: string): boolean {
  return spawnSync('bash', ['-n', '-c', text], { stdio: 'ignore' }).status === 0;
}

/** The marked ```bash blocks, split into commands (continuations and compound commands joined) with the JSON shown after each. */
function readBlocks(file: string, page: string): Block[] {
  const lines = page.split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#')) section = lines[i].replace(/^#+\s*/, '');
    if (lines[i].trim() !== MARKER) continue;
    if (lines[i + 1] !== '```bash') throw new Error(`${file} line ${i + 1}: ${MARKER} must be followed by a \`\`\`bash fence`);
    const block: Block = { file, line: i + 2, section, commands: [] };
    let buffer: string[] = [];
    let start = 0;
    let last: (Command & { output: string[]; open: boolean }) | undefined;
    for (i += 2; lines[i] !== '```'; i++) {
      if (i >= lines.length) throw new Error(`${file} line ${block.line}: unterminated fence`);
      const line = lines[i];
      if (buffer.length === 0 && line.trim() === '') {
        if (last) last.open = false;
        continue;
      }
      if (buffer.length === 0 && line.startsWith('#')) {
        if (last?.open) last.output.push(line.replace(/^# ?/, ''));
        continue;
      }
      if (buffer.length === 0) start = i + 1;
      buffer.push(line);
      const text = buffer.join('\n');
      if (line.endsWith('\\') || !syntaxComplete(text)) continue;
      last = { line: start, text, output: [], open: true };
      block.commands.push(last);
      buffer = [];
    }
    if (buffer.length) throw new Error(`${file} line ${start}: command never completes: ${buffer.join('\n')}`);
    for (const c of block.commands as (Command & { output: string[] })[]) {
      c.shown = shownJson(c.output);
      delete (c as Partial<typeof c>).output;
      delete (c as Partial<typeof c & { open: boolean }>).open;
    }
    blocks.push(block);
  }
  return blocks;
}

/** Command fences (```bash, ```sh, ...) not directly preceded by the marker: `file line N` each. */
function unmarkedBlocks(file: string, page: string): string[] {
  const lines = page.split('\n');
  const out: string[] = [];
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*```(\S*)\s*$/.exec(lines[i]);
    if (!m) continue;
    if (inFence) {
      if (m[1] === '') inFence = false;
      continue;
    }
    inFence = true;
    if (COMMAND_FENCES.has(m[1].toLowerCase()) && lines[i - 1]?.trim() !== MARKER) out.push(`${file} line ${i + 1}: \`\`\`${m[1]} block without ${MARKER}`);
  }
  return out;
}

/** The comment lines after a command that show JSON: from a line starting with { or [ until its brackets close. */
function shownJson(output: string[]): string | undefined {
  if (!/^\s*[{[]/.test(output[0] ?? '')) return undefined;
  let depth = 0;
  let inString = false;
  const taken: string[] = [];
  for (const line of output) {
    taken.push(line);
    for (let j = 0; j < line.length; j++) {
      const ch = line[j];
      if (inString) {
        if (ch === '\\') j++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
    }
    if (depth === 0) return taken.join('\n');
  }
  throw new Error(`shown JSON never closes: ${output.join('\n')}`);
}

// The pages' JSON with `...`/`..` for "more" or "some value": parsed into a pattern.
const ANY = Symbol('any');
type Pattern = typeof ANY | null | boolean | number | string | Pattern[] | { [k: string]: Pattern };

function parseShown(text: string): Pattern {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`shown JSON: ${what} at ${i}: ${text.slice(Math.max(0, i - 40), i + 40)}`);
  };
  const str = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) fail('expected a string');
    i += m![0].length;
    return JSON.parse(m![0]);
  };
  const value = (): Pattern => {
    ws();
    if (text.startsWith('..', i)) {
      while (text[i] === '.') i++;
      return ANY;
    }
    const c = text[i];
    if (c === '"') return str();
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const obj: Record<string, Pattern> = {};
      const arr: Pattern[] = [];
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return c === '{' ? obj : arr;
      }
      for (;;) {
        ws();
        if (c === '[') arr.push(value());
        else if (text.startsWith('..', i)) value();
        else {
          const k = str();
          ws();
          if (text[i++] !== ':') fail('expected :');
          obj[k] = value();
        }
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i++] !== close) fail(`expected ${close}`);
        return c === '{' ? obj : arr;
      }
    }
    const m = /^(true|false|null|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)/.exec(text.slice(i));
    if (!m) fail('unexpected text');
    i += m![0].length;
    return JSON.parse(m![0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

function mismatches(p: Pattern, actual: unknown, at: string, key: string, out: string[]): void {
  const here = at || '(top)';
  if (p === ANY) return;
  if (UNVERIFIABLE.has(key) || UNVERIFIABLE_PATHS.has(at)) return;
  if (Array.isArray(p)) {
    if (!Array.isArray(actual)) return void out.push(`${here}: the page shows an array, got ${JSON.stringify(actual)}`);
    if (!p.includes(ANY) && p.length !== actual.length) out.push(`${here}: the page shows ${p.length} items, got ${actual.length}`);
    p.forEach((item, n) => {
      if (item === ANY) return;
      if (n >= actual.length) return void out.push(`${here}[${n}]: missing`);
      mismatches(item, actual[n], `${at}[]`, key, out);
    });
    return;
  }
  if (p !== null && typeof p === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return void out.push(`${here}: the page shows an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(p)) {
      const a = (actual as Record<string, unknown>)[k];
      const sub = at ? `${at}.${k}` : k;
      if (!(k in actual)) {
        if (!DATA_MAPS.has(key)) out.push(`${sub}: field missing (the page shows it)`);
        continue;
      }
      mismatches(v, a, sub, k, out);
    }
    return;
  }
  if (typeof p === 'string' && /\.\.|\(presigned\)/.test(p)) {
    if (typeof actual !== 'string') out.push(`${here}: the page shows a string, got ${JSON.stringify(actual)}`);
    return;
  }
  if (typeof p === 'number') {
    if (typeof actual !== 'number') out.push(`${here}: the page shows a number, got ${JSON.stringify(actual)}`);
    else if ((STABLE_NUMBERS.has(key) || STABLE_PATHS.has(at)) && actual !== p) out.push(`${here}: the page shows ${p}, got ${actual}`);
    return;
  }
  if (actual !== p) out.push(`${here}: the page shows ${JSON.stringify(p)}, got ${JSON.stringify(actual)}`);
}

/** What the pages' local defaults are called on the test stack. */
function localToStack(shown: string, stack: RunningStack): string {
  return shown
    .replaceAll('image-tasks.fifo', stack.env.QUEUE_NAME)
    .replaceAll('image-pipeline-local', stack.env.BUCKET_NAME)
    .replaceAll('http://127.0.0.1:4566', `http://127.0.0.1:${stack.env.EMULATOR_PORT}`);
}

/** A clean shell: only PATH (without npx's node_modules/.bin) and HOME, as a user's terminal. */
function cleanShell(text: string, cwd: string, detached = false) {
  const cleanPath = (process.env.PATH ?? '').split(path.delimiter).filter((d) => !d.includes('node_modules')).join(path.delimiter);
  return spawn('env', ['-i', `PATH=${cleanPath}`, `HOME=${os.homedir()}`, 'bash', '-c', text], { cwd, detached, stdio: ['ignore', 'pipe', 'pipe'] });
}

function runBash(text: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = cleanShell(text, cwd);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}


const pages = PAGES.map((file) => ({ file, text: readFileSync(path.join(ROOT, file), 'utf8') }));
const blocks = pages.flatMap((p) => readBlocks(p.file, p.text));
const stacks = new Map<string, Promise<RunningStack>>();

/** `npm start` with the variables a line sets (`WORKERS=worker-1 npm start`), or undefined for any other line. */
function startLine(bare: string): Record<string, string> | undefined {
  const m = /^(?:npm ci && )?((?:[A-Z][A-Z0-9_]*=\S+ +)*)npm start$/.exec(bare);
  if (!m) return undefined;
  const vars: Record<string, string> = { WORKERS: DEFAULT_WORKERS };
  for (const a of m[1].trim().split(/\s+/).filter(Boolean)) vars[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
  return vars;
}

const stackFor = (vars: Record<string, string>) => {
  const key = Object.entries(vars).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' ');
  // A page's `npm run worker` runs beside `WORKERS=none npm start` in a clean shell and
  // finds that stack through the default state file (.local/stack.json), as a user's would.
  const stateFile: Record<string, string> = vars.WORKERS === 'none' ? { STACK_STATE_FILE: '' } : {};
  const name = `readme-${key.replace(/[^A-Za-z0-9=,-]+/g, '+').replaceAll(',', '+').replaceAll('=', '-')}`;
  if (!stacks.has(key)) stacks.set(key, startStack({ ...vars, ...stateFile }, name));
  return stacks.get(key)!;
};
const skipReason = (bare: string) => KNOWN_PENDING[bare] ?? SKIPPED_KINDS.find((k) => k.pattern.test(bare))?.reason;

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(path.join(os.tmpdir(), 'readme-commands-'));
});
afterAll(async () => {
  await Promise.all([...stacks.values()].map(async (s) => (await s).stop()));
  rmSync(cwd, { recursive: true, force: true });
});

test('every command block in README.md and docs/getting-started.md is marked to run', () => {
  expect(pages.flatMap((p) => unmarkedBlocks(p.file, p.text))).toEqual([]);
  for (const p of pages) expect({ file: p.file, python2: /\bpython -m json\.tool/.test(p.text) }).toEqual({ file: p.file, python2: false }); // Debian has python3 only
});

test('README.md and docs/getting-started.md run the seed Day-1, Day-2 and Day-3 commands and show JSON to check', () => {
  for (const file of PAGES) {
    const sections = blocks.filter((b) => b.file === file).map((b) => b.section);
    for (const day of ['Day 1', 'Day 2', 'Day 3']) expect({ file, day, found: sections.some((s) => s.includes(day)) }).toEqual({ file, day, found: true });
  }
  const guide = blocks.filter((b) => b.file === 'docs/getting-started.md');
  expect(guide.map((b) => b.section)).toEqual(expect.arrayContaining(['Testing worker specialisation', 'Testing job failure vs worker failure', 'Two dispatch modes']));
  expect(guide.flatMap((b) => b.commands).filter((c) => c.shown).length).toBeGreaterThanOrEqual(10);
  expect(blocks.filter((b) => b.file === 'README.md').flatMap((b) => b.commands).filter((c) => c.shown).length).toBeGreaterThanOrEqual(6);
});

for (const b of blocks) {
  for (const c of b.commands) {
    const bare = c.text.replace(/\s+#.*$/, '').trim();
    const reason = skipReason(bare);
    if (reason) test.skip(`${b.file} line ${c.line}: \`${bare}\` — ${reason}`, () => undefined);
  }

  test(`${b.file} line ${b.line} (${b.section}): every command runs and prints what the page shows`, async () => {
    let stack = await stackFor({ WORKERS: DEFAULT_WORKERS });
    let taskId: string | undefined;
    const background: { child: ChildProcess; output: () => string }[] = [];
    try {
      for (const c of b.commands) {
        const bare = c.text.replace(/\s+#.*$/, '').trim();
        const where = `${b.file} line ${c.line}: ${c.text}`;
        const start = startLine(bare);
        if (start) {
          stack = await stackFor(start);
          taskId = undefined;
          continue;
        }
        if (skipReason(bare)) continue;
        if (/^npm run worker -- /.test(bare)) {
          const child = cleanShell(c.text.replaceAll('http://localhost:8000', stack.url), ROOT, true);
          let out = '';
          child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
          background.push({ child, output: () => out });
          if (/the task completes/.test(c.text)) {
            if (!taskId) throw new Error(`${b.file} line ${c.line}: "the task completes" with no submission before it`);
            const url = `${stack.url}/api/task/${taskId}/status/`;
            const exited = new Promise<never>((_, reject) =>
              child.on('exit', (code) => reject(new Error(`${b.file} line ${c.line}: \`${bare}\` exited ${code}:\n${out.slice(-2000)}`))),
            );
            const done = await Promise.race([
              exited,
              waitFor(`${b.file} line ${c.line}: task ${taskId} completed`, 60_000, async () => {
                const t = await (await fetch(url)).json();
                return t.status === 'completed' || t.status === 'failed' ? t : undefined;
              }, 500),
            ]);
            expect(done.status).toBe('completed');
          }
          continue;
        }
        if (c.text.includes('{TASK_ID}') && !taskId) throw new Error(`${b.file} line ${c.line}: {TASK_ID} with no submission before it in the block`);
        const text = c.text.replaceAll('http://localhost:8000', stack.url).replaceAll('{TASK_ID}', taskId ?? '');
        // `npm run <script>` is typed in the project, as a user's terminal would be.
        const dir = /^npm run /.test(bare) ? ROOT : cwd;
        const once = async () => {
          const r = await runBash(text, dir);
          if (r.code !== 0) throw new Error(`${where}\nexited ${r.code}\n${r.stderr.slice(-2000)}`);
          if (!c.shown) return { r, problems: [] as string[] };
          let actual: unknown;
          try {
            actual = JSON.parse(r.stdout);
          } catch {
            return { r, problems: [`output is not JSON: ${r.stdout.slice(0, 300)}`] };
          }
          const problems: string[] = [];
          mismatches(parseShown(localToStack(c.shown, stack)), actual, '', '', problems);
          return { r, problems };
        };
        let result = await once();
        if (result.problems.length && c.shown && !/-X POST|\s-d\s/.test(c.text)) {
          result = await waitFor(`${where} to match`, 30_000, async () => {
            const again = await once();
            result = again;
            return again.problems.length ? undefined : again;
          }, 500).catch(() => result);
        }
        expect({ command: where, problems: result.problems }).toEqual({ command: where, problems: [] });
        for (const m of text.matchAll(/-o (\S+)/g)) expect(readFileSync(path.join(cwd, m[1])).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
        if (text.includes('/process-batch/distributed/')) taskId = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(result.r.stdout)?.[0] ?? taskId;
      }
    } finally {
      // The "other terminal" is closed: its whole process group (bash, npm, the worker).
      for (const p of background) if (p.child.exitCode === null) process.kill(-p.child.pid!, 'SIGTERM');
    }
  }, 180_000);
}
