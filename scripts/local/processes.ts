/** Child processes of the local stack: spawned with prefixed output, stopped in reverse order. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from '../../lib/core/time';

export interface Service {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  stopping: boolean;
}

const COLORS = [36, 35, 33, 32, 34, 31];
let colorIndex = 0;

function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string | undefined, out: NodeJS.WritableStream, onLine?: (l: string) => void) {
  if (!stream) return;
  let buf = '';
  stream.on('data', (chunk: Buffer | string) => {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      onLine?.(line);
      if (prefix !== undefined && line.trim()) out.write(`${prefix} ${line}\n`);
    }
  });
}

export interface Collected {
  child: ChildProcess;
  /** Everything the process printed so far (the last ~1 MB). */
  output: () => string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/**
 * The one way this project spawns a process it supervises (npm start's services, the test
 * stacks, workers and benches): stdout and stderr collected, optionally copied to a log
 * file and/or echoed to this process's output with a prefix, line by line.
 */
export function spawnCollected(
  command: string,
  args: string[],
  opts: SpawnOptions & { logFile?: string; echoPrefix?: string; onLine?: (line: string) => void } = {},
): Collected {
  const { logFile, echoPrefix, onLine, ...spawnOpts } = opts;
  const child = spawn(command, args, { ...spawnOpts, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = logFile ? (mkdirSync(path.dirname(logFile), { recursive: true }), createWriteStream(logFile, { flags: 'a' })) : undefined;
  let text = '';
  const collect = (b: Buffer) => {
    text += b.toString();
    if (text.length > 2_000_000) text = text.slice(-1_000_000);
    log?.write(b);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  if (echoPrefix !== undefined || onLine) {
    prefixLines(child.stdout, echoPrefix, process.stdout, onLine);
    prefixLines(child.stderr, echoPrefix, process.stderr, onLine);
  }
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', () => resolve('spawn-error'));
  });
  return { child, output: () => text, exited };
}

export function startService(name: string, command: string, args: string[], opts: SpawnOptions & { onLine?: (line: string) => void } = {}): Service {
  const color = COLORS[colorIndex++ % COLORS.length];
  const prefix = process.stdout.isTTY ? `\x1b[${color}m[${name}]\x1b[0m` : `[${name}]`;
  const { child, exited } = spawnCollected(command, args, { ...opts, echoPrefix: prefix });
  return { name, child, exited, stopping: false };
}

export async function stopService(s: Service, graceMs = 5000): Promise<void> {
  s.stopping = true;
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
  await s.exited;
  clearTimeout(timer);
}

export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** Resolves when the port can be bound on host, rejects with the errno code otherwise. */
export function probePort(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => reject(e));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve()));
  });
}

/** Ports handed out by this process, so two callers never get the same one. */
const handedOut = new Set<number>();

/** The kernel's range for outgoing connections' local ports (Linux), else the IANA one. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    /* not Linux */
  }
  return [49152, 65535];
}

function probeFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port free now, for a server that will listen on it seconds later. It is chosen below the
 * ephemeral range: a port the kernel picked there (port 0) can meanwhile become the local
 * port of some outgoing connection, and the server's listen then fails with EADDRINUSE.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow - 1);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port) || !(await probeFree(host, port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found between ${low} and ${high} on ${host}`);
}

export async function waitFor<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await attempt();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export interface Reaper {
  /** Kill this pid if the process that started it dies without stopping it. */
  watch: (pid: number | undefined) => void;
  /** Everything was stopped in order: the reaper can go without killing anything. */
  release: () => void;
}

/** A small watchdog process (scripts/local/reaper.mjs) holding the other end of a pipe. */
export function startReaper(): Reaper {
  const child = spawn(process.execPath, [path.join(__dirname, 'reaper.mjs')], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  child.unref();
  return {
    watch: (pid) => {
      if (pid !== undefined) child.stdin!.write(`watch ${pid}\n`);
    },
    release: () => {
      child.stdin!.end('release\n');
    },
  };
}
