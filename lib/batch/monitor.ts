/**
 * Resource monitoring for one run: CPU (all threads of the process), peak RSS sampled
 * every 25 ms, event-loop delay and utilisation of the API's thread.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import os from 'node:os';
import { round } from '../core/numbers';

const mb = (b: number) => round(b / 2 ** 20);

export interface ResourceReport {
  wall_ms: number;
  cpu: { user_pct: number; system_pct: number; total_pct: number; of_machine_pct: number; cores: number };
  memory_mb: { rss_start: number; rss_end: number; rss_peak: number };
  event_loop: { delay_p50_ms: number; delay_p99_ms: number; delay_max_ms: number; utilization: number };
}

export function startMonitor() {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const rssStart = process.memoryUsage.rss();
  let peak = rssStart;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  return (): ResourceReport => {
    clearInterval(sampler);
    delay.disable();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const rssEnd = process.memoryUsage.rss();
    peak = Math.max(peak, rssEnd);
    const pct = (us: number) => round((us / 1000 / Math.max(wall, 0.001)) * 100);
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    return {
      wall_ms: round(wall),
      // Percent of one core; 200% = two cores busy the whole run.
      cpu: { user_pct: pct(cpu.user), system_pct: pct(cpu.system), total_pct: pct(cpu.user + cpu.system), of_machine_pct: round(pct(cpu.user + cpu.system) / cores), cores },
      memory_mb: { rss_start: mb(rssStart), rss_end: mb(rssEnd), rss_peak: mb(peak) },
      event_loop: {
        delay_p50_ms: round(delay.percentile(50) / 1e6),
        delay_p99_ms: round(delay.percentile(99) / 1e6),
        delay_max_ms: round(delay.max / 1e6),
        utilization: round(elu.utilization, 3),
      },
    };
  };
}
