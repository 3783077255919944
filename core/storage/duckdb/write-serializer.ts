import { StorageUnavailableError } from "../port.ts";

/**
 * Runs write operations one at a time. The writer connection holds one transaction at a time and
 * upserts read-modify-write rows, so two interleaved batches could otherwise lose each other's sums.
 * The number waiting is bounded: past it callers get a StorageUnavailableError (retry later) instead of
 * the process queueing unbounded work behind a slow disk.
 */
export class WriteSerializer {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly maxWaiting: number) {}

  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.waiting >= this.maxWaiting) {
      return Promise.reject(new StorageUnavailableError(`DuckDB storage is busy: ${this.waiting} writes already waiting, retry later`));
    }
    this.waiting++;
    const result = this.tail.then(work);
    // The chain continues whether or not this write failed; the caller sees its own failure via `result`.
    this.tail = result.then(
      () => this.waiting--,
      () => this.waiting--,
    );
    return result;
  }

  /** True when no write runs or waits. */
  get isIdle(): boolean {
    return this.waiting === 0;
  }

  /** Resolves once every write accepted so far has finished. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
