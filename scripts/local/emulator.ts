/**
 * The embedded AWS emulator (fauxqs, scripts/emulator.mjs) as npm start runs it: started on
 * one address, and supervised — it keeps everything in memory, so if it dies it is started
 * again, its queues, bucket and samples are recreated, and what it forgot is re-sent from
 * Redis (lib/tasks/recovery.ts).
 */
import path from 'node:path';
import { closeClients, createClients } from '../../lib/core/clients';
import type { Config } from '../../lib/core/config';
import { sleep } from '../../lib/core/time';
import { recoverAfterEmulatorLoss } from '../../lib/tasks/recovery';
import { startService, waitFor, type Service } from './processes';
import { provision } from './resources';
import { PROJECT_ROOT } from './stack-state';

export interface EmulatorHooks {
  say: (msg: string) => void;
  /** A new emulator process (replacing one that died, if given): the caller owns stopping it. */
  started: (svc: Service, replaced?: Service) => void;
  /** True once the caller is shutting down: an exit then is expected. */
  stopping: () => boolean;
  /** Restarts are off (EMULATOR_RESTART_DELAY_MS=0) and it died: the caller stops the stack. */
  gaveUp: (reason: string) => void;
}

export async function startEmulator(host: string, port: number, hooks: EmulatorHooks, replaced?: Service): Promise<Service> {
  const svc = startService('emulator', process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'emulator.mjs'), String(port), host], { cwd: PROJECT_ROOT });
  hooks.started(svc, replaced);
  await waitFor('embedded emulator', 15_000, async () => ((await fetch(`http://${host}:${port}/health`)).ok ? true : undefined));
  hooks.say(`emulator pid ${svc.child.pid}`);
  return svc;
}

export async function superviseEmulator(cfg: Config, stackCfg: Config, first: Service, host: string, hooks: EmulatorHooks): Promise<void> {
  let svc = first;
  for (;;) {
    const code = await svc.exited;
    if (hooks.stopping() || svc.stopping) return;
    if (cfg.aws.emulatorRestartDelayMs === 0) return hooks.gaveUp(`emulator exited (${code})`);
    hooks.say(`emulator exited (${code}); restarting it in ${cfg.aws.emulatorRestartDelayMs} ms (the API answers 503 meanwhile)`);
    await sleep(cfg.aws.emulatorRestartDelayMs);
    if (hooks.stopping()) return;
    svc = await startEmulator(host, cfg.aws.emulatorPort, hooks, svc);
    const deps = createClients(stackCfg);
    try {
      await provision(deps);
      const { resent, recomputed } = await recoverAfterEmulatorLoss(deps);
      hooks.say(`emulator back: resources recreated; ${resent} unfinished task(s) re-sent, ${recomputed} lost result(s) being recomputed`);
    } catch (e) {
      hooks.say(`emulator back, but recovery failed: ${(e as Error).message}`);
    } finally {
      await closeClients(deps);
    }
  }
}
