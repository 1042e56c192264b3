/** What one pool worker thread does with one task (see pool.ts). */
import { threadId } from 'node:worker_threads';
import { bufferOver } from '../core/bytes';
import { AppError, serializeAppError, type SerializedAppError } from '../core/errors';
import { loadOpenCv } from './opencv';
import { processImage, type ProcessedImage, type ProcessLimits } from './pipeline';
import type { FilterStep } from './request';

export type PoolTask = { warmup: true } | { input: Uint8Array; steps: FilterStep[]; limits: ProcessLimits };

/** An image's result, or its typed error as data (piscina would hand the caller a plain Error: a bad image would answer 500, not 422). */
export type PoolImageResult = ProcessedImage | { appError: SerializedAppError };

export async function poolTask(task: PoolTask): Promise<PoolImageResult | { thread_id: number }> {
  if ('warmup' in task) {
    await loadOpenCv();
    return { thread_id: threadId };
  }
  try {
    return await processImage(bufferOver(task.input), task.steps, task.limits);
  } catch (e) {
    if (e instanceof AppError) return { appError: serializeAppError(e) };
    throw e;
  }
}
