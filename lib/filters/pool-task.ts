/** What one pool worker thread does with one task (see pool.ts). */
import { threadId } from 'node:worker_threads';
import { loadOpenCv } from './opencv';
import { processImage, type ProcessedImage, type ProcessLimits } from './pipeline';
import type { FilterStep } from './request';

export type PoolTask = { warmup: true } | { input: Uint8Array; steps: FilterStep[]; limits: ProcessLimits };

export async function poolTask(task: PoolTask): Promise<ProcessedImage | { thread_id: number }> {
  if ('warmup' in task) {
    await loadOpenCv();
    return { thread_id: threadId };
  }
  // Buffers arrive in a worker as plain Uint8Arrays.
  const input = Buffer.from(task.input.buffer, task.input.byteOffset, task.input.byteLength);
  return processImage(input, task.steps, task.limits);
}
