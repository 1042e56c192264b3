/**
 * CPU time by component (API, emulator, workers, Redis, this bench) read from /proc, so a
 * benchmark can say where the cores went instead of guessing. Linux only: elsewhere every
 * snapshot is empty and the report says so.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on every Linux ABI Node supports

interface ProcInfo {
  pid: number;
  ppid: number;
  cpuMs: number;
  cmd: string;
}

function readProcs(): ProcInfo[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // The command name in parentheses may contain spaces: split after its closing paren.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(e), ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS, cmd });
    } catch {
      // The process exited between readdir and read.
    }
  }
  return out;
}

/** 'workers' counts every process doing the image work: pipeline workers and bare reference processes. */
export type Component = 'workers' | 'emulator' | 'api' | 'redis' | 'bench' | 'start';

function classify(p: ProcInfo, benchPid: number): Component | undefined {
  if (p.pid === benchPid) return 'bench';
  if (/redis-server/.test(p.cmd)) return 'redis';
  if (/scripts\/worker\.ts|bench\/bare-worker\.ts/.test(p.cmd)) return 'workers';
  if (/emulator\.mjs/.test(p.cmd)) return 'emulator';
  if (/serverless|sls|offline/.test(p.cmd)) return 'api';
  if (/scripts\/start\.ts/.test(p.cmd)) return 'start';
  return undefined;
}

/** CPU ms consumed so far by each component among this process's descendants and Redis. */
export function cpuSnapshot(): Map<Component, number> {
  const procs = readProcs();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const mine = (p: ProcInfo): boolean => {
    for (let cur: ProcInfo | undefined = p, hops = 0; cur && hops < 20; cur = byPid.get(cur.ppid), hops++) {
      if (cur.pid === process.pid) return true;
    }
    return /redis-server/.test(p.cmd);
  };
  const totals = new Map<Component, number>();
  for (const p of procs) {
    if (!mine(p)) continue;
    const c = classify(p, process.pid);
    if (c) totals.set(c, (totals.get(c) ?? 0) + p.cpuMs);
  }
  return totals;
}

/** CPU ms per component between two snapshots (processes that exited in between are not counted). */
export function cpuDelta(before: Map<Component, number>, after: Map<Component, number>): Map<Component, number> {
  const d = new Map<Component, number>();
  for (const [k, v] of after) d.set(k, Math.max(0, v - (before.get(k) ?? 0)));
  return d;
}

/** Resident memory (MB) of each process below `rootPid` (and `rootPid` itself), by component and pid. */
export function rssBelow(rootPid: number, extraPids: number[] = []): { component: Component | 'other'; pid: number; cmd: string; rssMb: number }[] {
  const procs = readProcs();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const below = (p: ProcInfo): boolean => {
    for (let cur: ProcInfo | undefined = p, hops = 0; cur && hops < 20; cur = byPid.get(cur.ppid), hops++) {
      if (cur.pid === rootPid) return true;
    }
    return false;
  };
  const out = [];
  for (const p of procs) {
    if (!below(p) && !extraPids.includes(p.pid)) continue;
    let rssKb = 0;
    try {
      rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      continue;
    }
    if (rssKb === 0) continue; // a shell wrapper that already exec'd, or a zombie
    out.push({ component: classify(p, process.pid) ?? ('other' as const), pid: p.pid, cmd: p.cmd, rssMb: rssKb / 1024 });
  }
  return out;
}
