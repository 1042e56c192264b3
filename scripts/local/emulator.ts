/**
 * The embedded AWS emulator (fauxqs, scripts/emulator.mjs) as npm start runs it: started on
 * one address with its bucket on disk (LOCAL_DATA_DIR/s3), and supervised — its queues are in
 * memory, so if it dies it is started again, its queues are recreated, and the unfinished
 * tasks are re-sent from Redis (lib/tasks/recovery.ts).
 */
import path from 'node:path';
import { closeClients, createClients } from '../../lib/core/clients';
import type { Config } from '../../lib/core/config';
import { sleep } from '../../lib/core/time';
import { recoverAfterEmulatorLoss } from '../../lib/tasks/recovery';
import { startService, waitFor, type Service } from './processes';
import { provision } from './resources';
import { PROJECT_ROOT } from './stack-state';
import { dataDirPath } from './data-dir';

export interface EmulatorHooks {
  say: (msg: string) => void;
  /** A new emulator process (replacing one that died, if given): the caller owns stopping it. */
  started: (svc: Service, replaced?: Service) => void;
  /** True once the caller is shutting down: an exit then is expected. */
  stopping: () => boolean;
  /** Restarts are off (EMULATOR_RESTART_DELAY_MS=0) and it died: the caller stops the stack. */
  gaveUp: (reason: string) => void;
}

/** Where the embedded emulator keeps the bucket. */
export function bucketDataDir(cfg: Config): string {
  return path.join(dataDirPath(cfg.local.dataDir), 's3');
}

export async function startEmulator(cfg: Config, host: string, hooks: EmulatorHooks, replaced?: Service): Promise<Service> {
  const port = cfg.aws.emulatorPort;
  const env = { ...process.env, EMULATOR_DATA_DIR: bucketDataDir(cfg), EMULATOR_RESERVE_MB: String(cfg.local.diskReserveMb) };
  const svc = startService('emulator', process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'emulator.mjs'), String(port), host], { cwd: PROJECT_ROOT, env });
  hooks.started(svc, replaced);
  await Promise.race([
    waitFor('embedded emulator', 15_000, async () => ((await fetch(`http://${host}:${port}/health`)).ok ? true : undefined)),
    svc.exited.then((c) => {
      throw new Error(`the embedded emulator exited (${c}) before answering; see the [emulator] lines above`);
    }),
  ]);
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
    svc = await startEmulator(cfg, host, hooks, svc);
    const deps = createClients(stackCfg);
    try {
      await provision(deps);
      // Results older than RESULT_TTL_DAYS were removed by retention, not lost with the emulator.
      const { resent, recomputed, deadLetters } = await recoverAfterEmulatorLoss(deps, cfg.local.resultTtlDays * 86_400_000);
      hooks.say(`emulator back: queues recreated; ${resent} unfinished task(s) re-sent, ${recomputed} lost result(s) being recomputed, ${deadLetters} dead letter(s) restored`);
    } catch (e) {
      hooks.say(`emulator back, but recovery failed: ${(e as Error).message}`);
    } finally {
      await closeClients(deps);
    }
  }
}
