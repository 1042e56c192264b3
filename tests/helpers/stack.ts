/** The stack harness lives in scripts/local/harness.ts, shared with the benchmarks. */
export { ARTIFACTS, isolatedEnv, ROOT, runId, spawnStart, startStack, type RunningStack, type StackInfo } from '../../scripts/local/harness';
