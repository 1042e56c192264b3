/**
 * A Buffer over the same memory as `bytes`, not a copy: Buffers arrive from a thread crossing
 * (worker_threads, piscina) or from the SDK as plain Uint8Arrays, and a 4K image is ~1 MB.
 */
export function bufferOver(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
