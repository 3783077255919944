import type { Logger } from "pino";
import type { ProbeResult } from "../../core/model/probe.ts";
import { PartialWriteError, PermanentWriteError, type StorageWriter } from "../../core/storage/port.ts";
import type { Component } from "../../core/lifecycle.ts";

export interface ResultBatcherOptions {
  writer: Pick<StorageWriter, "writeProbeResults">;
  /** Rows per write; a full batch is written at once instead of waiting for the timer. */
  batchSize: number;
  flushIntervalMs: number;
  /** Rows held at most (including ones whose write failed); beyond it the oldest are dropped and counted. */
  maxBuffered: number;
  logger: Logger;
  /** `buffer_full`: the oldest rows gave way to new ones; `refused`: storage refused the rows for good (core/storage/port.ts). */
  onDropped?: (count: number, reason: "buffer_full" | "refused") => void;
}

/**
 * Collects probe results and writes them in batches: resident 1-second cases and busy schedules produce
 * thousands of rows a second, far too many single-row inserts for ClickHouse. The buffer is bounded;
 * a retryable failure keeps its rows (those a partial write left unwritten) for the next flush, so storage
 * hiccups lose nothing until the bound; a permanent one drops them, counted, so they cannot block the rest.
 */
export class ResultBatcher implements Component {
  readonly name = "probe-results";
  private buffer: ProbeResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  private lastFailureLogMs = 0;

  constructor(private readonly options: ResultBatcherOptions) {
    if (options.batchSize < 1 || options.maxBuffered < options.batchSize) throw new Error("result batcher: need 1 <= batchSize <= maxBuffered");
  }

  get droppedCount(): number {
    return this.dropped;
  }

  get bufferedCount(): number {
    return this.buffer.length;
  }

  push(result: ProbeResult): void {
    this.buffer.push(result);
    this.trim();
    if (this.buffer.length >= this.options.batchSize) void this.flush();
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Write everything held, batch by batch; stop when a write fails so shutdown does not spin.
    while (this.buffer.length > 0) {
      const before = this.buffer.length;
      await this.flush();
      if (this.buffer.length >= before) break;
    }
  }

  /** Writes what is buffered now; one flush at a time. Never rejects. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeBuffered(): Promise<void> {
    let isFirst = true;
    while (this.buffer.length > 0) {
      // Between batches, let due timers run first: the embedded DuckDB appends a batch synchronously, and
      // back-to-back batches would hold the event loop (and every scheduled run) for their whole sum.
      if (!isFirst) await new Promise<void>((resolve) => setImmediate(resolve));
      isFirst = false;
      const batch = this.buffer.splice(0, this.options.batchSize);
      try {
        await this.options.writer.writeProbeResults(batch);
      } catch (error) {
        if (error instanceof PermanentWriteError) {
          this.dropped += batch.length;
          this.options.onDropped?.(batch.length, "refused");
          this.logFailure(error);
          continue;
        }
        // Put what is unwritten back in front so order is kept; trim drops the oldest if new rows filled the gap.
        const unwritten = error instanceof PartialWriteError ? (error.unwritten as ProbeResult[]) : batch;
        this.buffer = unwritten.concat(this.buffer);
        this.trim();
        this.logFailure(error);
        return;
      }
    }
  }

  private trim(): void {
    const excess = this.buffer.length - this.options.maxBuffered;
    if (excess <= 0) return;
    this.buffer.splice(0, excess);
    this.dropped += excess;
    this.options.onDropped?.(excess, "buffer_full");
  }

  private logFailure(error: unknown): void {
    const nowMs = Date.now();
    if (nowMs - this.lastFailureLogMs < 10_000) return;
    this.lastFailureLogMs = nowMs;
    this.options.logger.warn(
      { error: error instanceof Error ? error.message : String(error), buffered: this.buffer.length },
      error instanceof PermanentWriteError ? "storage refused probe results for good; dropped them" : "writing probe results failed; will retry",
    );
  }
}
