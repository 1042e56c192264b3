/**
 * Source images a worker read recently, kept with their ETag so the next task on the same
 * image asks S3 only whether it changed (a conditional GET: 304 and no body) instead of
 * downloading it again. Tasks often share a source: the seed's day 3 sends one image
 * through several filter sets, and a batch or a retry reads the same object again. A
 * replaced object has a new ETag, so S3 answers with the new bytes and the entry is
 * replaced: a stale image is never used.
 *
 * Least recently used entries go first once the bytes held pass the cap; an image larger
 * than the cap is not kept. The bytes are shared by every task that gets them, so nothing
 * may write into an input buffer (lib/filters only reads it; tests/unit/source-cache.test.ts).
 */
export interface CachedSource {
  etag: string;
  bytes: Buffer;
  contentType: string;
}

export class SourceCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  private readonly entries = new Map<string, CachedSource>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get(name: string): CachedSource | undefined {
    const entry = this.entries.get(name);
    if (entry) {
      this.entries.delete(name);
      this.entries.set(name, entry);
    }
    return entry;
  }

  set(name: string, entry: CachedSource): void {
    this.delete(name);
    if (entry.bytes.length > this.maxBytes) return;
    this.entries.set(name, entry);
    this.held += entry.bytes.length;
    for (const [oldest, e] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= e.bytes.length;
    }
  }

  delete(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    this.held -= entry.bytes.length;
  }

  /** Bytes held and entries, for tests and logs. */
  get size(): { bytes: number; entries: number } {
    return { bytes: this.held, entries: this.entries.size };
  }
}
