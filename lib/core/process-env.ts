/**
 * glibc malloc settings for every process that decodes images (API, workers). glibc reads
 * them once, when the process starts, so they go into the environment of whatever spawns
 * the process: scripts/start.ts, `npm run worker`, the Dockerfile and serverless.yml (a unit
 * test keeps those copies equal to this one).
 *
 * Why: a decoded 4K frame is ~25 MB, above glibc's default mmap threshold, so every frame
 * (and every copy in and out of OpenCV's heap) is a fresh mmap that the kernel page-faults
 * in and zeroes, then an munmap. Serving blocks up to 32 MiB (glibc's maximum threshold)
 * from the heap and not trimming it eagerly reuses the same memory task after task; two
 * arenas keep libvips' threads from spreading it over many. Measured on [sharpen, edges]
 * over the 4K sample: ~15% less time per image in a bare process and in a worker, fewer
 * page faults, and lower peak RSS (about 420 vs 450-520 MiB). Figures: docs/benchmarks.md.
 */
export const IMAGE_PROCESS_ENV = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '33554432',
  MALLOC_TRIM_THRESHOLD_: '268435456',
} as const;
