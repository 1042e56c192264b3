/**
 * Where results live in the bucket. Both the batch endpoints and the distributed workers
 * write under `processed/`, which the bucket's lifecycle rule (scripts/aws/stack.ts) and
 * local retention expire after RESULT_TTL_DAYS, so the prefix has one definition here.
 */
export const PROCESSED_PREFIX = 'processed/';

/** The file name without its extension: a result's extension is its format's. */
function stem(image: string): string {
  return image.replace(/\.[^.]+$/, '');
}

/**
 * A distributed task's result: one fixed key per task, so a repeated delivery overwrites
 * the same object instead of leaving a second one.
 */
export function taskResultKey(taskId: string, image: string, ext = 'jpg'): string {
  return `${PROCESSED_PREFIX}${taskId}/${stem(image)}.${ext}`;
}

/** One output of a batch run: grouped by run and strategy, ordered by job index. */
export function batchResultKey(runId: string, strategy: string, index: number, image: string, ext = 'jpg'): string {
  return `${PROCESSED_PREFIX}${runId}/${strategy}/${String(index).padStart(3, '0')}-${stem(image)}.${ext}`;
}
