import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { EntityRecord } from "../../core/model/dimensions.ts";
import type { MinuteMetrics } from "../../core/model/metrics.ts";
import type { SampledRecord } from "../../core/model/sample.ts";
import { PartialWriteError, PermanentWriteError, type StorageWriter } from "../../core/storage/port.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { DrainResult } from "./minute-aggregator.ts";

export interface FlusherOptions {
  aggregator: { drain(nowMs: number, force?: boolean): DrainResult };
  sampler: { drain(): SampledRecord[] };
  writer: StorageWriter;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  intervalMs?: number;
  /** Rows per write call. */
  batchRows?: number;
  /** Rows kept for retry while storage fails; beyond, the oldest batches are dropped (counted, logged). */
  maxPendingRows?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Write attempts per batch on stop before giving up on it. */
  stopAttempts?: number;
  clock?: () => number;
  /**
   * A write-ahead buffer to checkpoint: sealed whenever the aggregator is drained, committed once storage
   * has taken every row drained up to that seal.
   */
  checkpoint?: FlushCheckpoint;
}

export interface FlushCheckpoint {
  /** Marks everything received so far; called right before a drain, in the same synchronous turn. */
  seal(): number;
  /** Storage holds every row drained up to the seal that returned `mark`. */
  commit(mark: number): void;
}

type BatchKind = "metrics" | "entities" | "samples";

/** A batch bound to its write call, so retrying it needs no knowledge of its row type. */
interface PendingBatch {
  kind: BatchKind;
  rowCount: number;
  /** Which drain the rows came from (1, 2, ...): whether a write-ahead buffer still holds what they were made of. */
  drain: number;
  write(): Promise<void>;
  /** The same batch narrowed to the rows a partial write left unwritten. */
  narrowedTo(unwritten: readonly unknown[]): PendingBatch;
}

function pendingBatch<Row>(kind: BatchKind, drain: number, rows: readonly Row[], write: (rows: readonly Row[]) => Promise<void>): PendingBatch {
  return {
    kind,
    rowCount: rows.length,
    drain,
    write: () => write(rows),
    // The writer hands back rows of the batch it was given (core/storage/port.ts, PartialWriteError).
    narrowedTo: (unwritten) => pendingBatch(kind, drain, unwritten as readonly Row[], write),
  };
}

const DEFAULTS = {
  intervalMs: 10_000,
  batchRows: 5_000,
  maxPendingRows: 500_000,
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  stopAttempts: 3,
};
/** Share of maxPendingRows at which the pipeline is asked to push back, before anything must be dropped. */
const OVERLOAD_HIGH_WATERMARK = 0.8;
/** On stop, retries wait at most this long: shutdown must not hang on a dead storage. */
const MAX_STOP_BACKOFF_MS = 1_000;
const REJECT_SOURCE = "flush";

/**
 * Moves minute sums (open minutes as partial sums), entities and samples to storage every `intervalMs`. A
 * retryable failure keeps its batch (only the unwritten rows, after a partial write) and retries later with
 * exponential backoff; the retry buffer is bounded in rows, and when it overflows the OLDEST rows are
 * dropped with a counted reject and an error log, so memory stays bounded whatever storage does. A
 * permanent failure (core/storage/port.ts) drops its batch at once, counted, so it never holds up the
 * batches behind it; storage settles rows it refuses as malformed itself, so that is a last resort.
 * Writes are serialized, so batches reach storage in drain order.
 */
export class Flusher {
  private readonly options: Required<Omit<FlusherOptions, "clock" | "checkpoint">>;
  private readonly checkpoint: FlushCheckpoint | undefined;
  /** The checkpoint's mark at the last drain whose rows are not all known to be in storage yet. */
  private uncommittedMark: number | null = null;
  /** Drains so far, and the last one whose checkpoint mark was committed (its input will not be replayed). */
  private drains = 0;
  private committedDrain = 0;
  private readonly clock: () => number;
  private readonly pending: PendingBatch[] = [];
  private pendingRowCount = 0;
  private consecutiveFailures = 0;
  private nextAttemptMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  private isBusy = false;
  private isFlushRequested = false;
  private readonly duration: Histogram;
  private readonly rowsWritten: Counter<"kind">;
  private readonly failures: Counter;
  private readonly pendingGauge: Gauge;

  constructor(options: FlusherOptions) {
    this.options = { ...DEFAULTS, ...options };
    for (const name of ["intervalMs", "batchRows", "maxPendingRows", "stopAttempts"] as const) {
      if (!(this.options[name] >= 1)) throw new RangeError(`Flusher: ${name} must be >= 1, got ${this.options[name]}`);
    }
    this.clock = options.clock ?? Date.now;
    this.checkpoint = options.checkpoint;
    this.duration = new Histogram({
      name: "meshsight_flush_duration_seconds",
      help: "Time to drain the aggregator and write to storage, per flush.",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [options.registry],
    });
    this.rowsWritten = new Counter({
      name: "meshsight_flush_rows_written_total",
      help: "Rows written to storage by the collector, by kind.",
      labelNames: ["kind"],
      registers: [options.registry],
    });
    this.failures = new Counter({
      name: "meshsight_flush_failures_total",
      help: "Storage writes that failed with a retryable error and will be retried.",
      registers: [options.registry],
    });
    this.pendingGauge = new Gauge({
      name: "meshsight_flush_pending_rows",
      help: "Rows drained but not yet written (waiting or retrying).",
      registers: [options.registry],
    });
  }

  get pendingRows(): number {
    return this.pendingRowCount;
  }

  /** True when the retry buffer is filling up: the pipeline should stop taking input. */
  isOverloaded(): boolean {
    return this.pendingRowCount >= this.options.maxPendingRows * OVERLOAD_HIGH_WATERMARK;
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      // A slow storage must not stack flushes; the next tick picks up whatever is left.
      if (!this.isBusy) void this.flush();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Drains the aggregator (retiring every minute with `force`) and writes what it can; never throws. */
  flush(force = false): Promise<void> {
    this.busy = this.busy.then(() => this.flushOnce(force, false));
    return this.busy;
  }

  /**
   * Flushes now unless a requested flush is still under way: input read by its own time (a file of last
   * week) fills the aggregator faster than the timer drains it, and should not stall until the next tick.
   */
  requestFlush(): void {
    if (this.isFlushRequested) return;
    this.isFlushRequested = true;
    void this.flush().finally(() => {
      this.isFlushRequested = false;
    });
  }

  /** Stops the timer, drains everything and writes it, retrying a few times; what still fails is dropped loudly. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
    await this.flushOnce(true, true);
    for (let attempt = 1; attempt < this.options.stopAttempts && this.pending.length > 0; attempt++) {
      await delay(Math.min(this.backoffMs(), MAX_STOP_BACKOFF_MS));
      await this.writePending();
    }
    if (this.pendingRowCount > 0) this.giveUpPending();
  }

  /**
   * Drops what storage would not take on stop. Rows drained after the last committed checkpoint are not
   * lost: the write-ahead buffer keeps their input and the next start replays it, so they are no reject.
   */
  private giveUpPending(): void {
    const replayedRows = this.checkpoint === undefined ? 0 : this.pending.reduce((rows, batch) => (batch.drain > this.committedDrain ? rows + batch.rowCount : rows), 0);
    const lostRows = this.pendingRowCount - replayedRows;
    if (lostRows > 0) {
      this.options.rejects.reject(REJECT_SOURCE, "dropped-on-stop", lostRows, "storage kept failing during shutdown");
      this.options.logger.error({ rows: lostRows }, "collector stopped with rows storage would not take: they are lost");
    }
    if (replayedRows > 0) this.options.logger.warn({ rows: replayedRows }, "storage would not take these rows before stop: the write-ahead buffer keeps their input for the next start");
    this.pending.length = 0;
    this.pendingRowCount = 0;
  }

  private async flushOnce(force: boolean, ignoreBackoff: boolean): Promise<void> {
    this.isBusy = true;
    const endTimer = this.duration.startTimer();
    try {
      const nowMs = this.clock();
      // Sealed in the same turn as the drain, so no record falls between the mark and the drained rows.
      if (this.checkpoint !== undefined) this.uncommittedMark = this.checkpoint.seal();
      this.drains++;
      const drained = this.options.aggregator.drain(nowMs, force);
      const { writer } = this.options;
      this.enqueue<MinuteMetrics>("metrics", drained.metrics, (rows) => writer.writeMetrics(rows));
      this.enqueue<EntityRecord>("entities", drained.entities, (rows) => writer.writeEntities(rows));
      this.enqueue<SampledRecord>("samples", this.options.sampler.drain(), (rows) => writer.writeSamples(rows));
      this.dropOldestBeyondBound();
      if (ignoreBackoff || nowMs >= this.nextAttemptMs) await this.writePending();
    } catch (error) {
      // Draining is our own code; if it throws, log and keep the timer alive rather than kill the collector.
      this.options.logger.error({ err: error }, "flush failed");
    } finally {
      this.pendingGauge.set(this.pendingRowCount);
      endTimer();
      this.isBusy = false;
    }
  }

  private enqueue<Row>(kind: BatchKind, rows: readonly Row[], write: (rows: readonly Row[]) => Promise<void>): void {
    const { batchRows } = this.options;
    for (let start = 0; start < rows.length; start += batchRows) {
      const chunk = rows.slice(start, start + batchRows);
      this.pending.push(pendingBatch(kind, this.drains, chunk, write));
      this.pendingRowCount += chunk.length;
    }
  }

  private dropOldestBeyondBound(): void {
    let droppedRows = 0;
    while (this.pendingRowCount > this.options.maxPendingRows) {
      const oldest = this.pending.shift();
      if (oldest === undefined) break;
      this.pendingRowCount -= oldest.rowCount;
      droppedRows += oldest.rowCount;
    }
    if (droppedRows === 0) return;
    this.options.rejects.reject(REJECT_SOURCE, "dropped-oldest", droppedRows, "storage is failing and the retry buffer is full");
    this.options.logger.error({ droppedRows, pendingRows: this.pendingRowCount }, "storage keeps failing: dropped the oldest unwritten rows");
  }

  /** Writes batches in order until one fails retryably; that one (or what it left unwritten) stays first in line. */
  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending[0];
      if (batch === undefined) return;
      try {
        await batch.write();
      } catch (error) {
        if (error instanceof PermanentWriteError) {
          this.dropFirst(batch, error);
          continue;
        }
        if (error instanceof PartialWriteError) this.narrowFirst(batch, error.unwritten);
        this.consecutiveFailures++;
        this.failures.inc();
        this.nextAttemptMs = this.clock() + this.backoffMs();
        this.options.logger.warn(
          { err: error, kind: batch.kind, consecutiveFailures: this.consecutiveFailures, retryInMs: this.backoffMs(), pendingRows: this.pendingRowCount },
          "storage write failed, will retry",
        );
        return;
      }
      this.pending.shift();
      this.pendingRowCount -= batch.rowCount;
      this.rowsWritten.inc({ kind: batch.kind }, batch.rowCount);
      this.consecutiveFailures = 0;
      if (batch.kind === "metrics") this.commitCheckpoint();
    }
    this.commitCheckpoint();
  }

  /**
   * Commits the last seal once no metric row drained up to it waits (batches go in drain order). Metrics are
   * what a replay would count twice; entities and samples left unwritten are upserts and samples, so the
   * checkpoint does not wait for them: the window in which a crash repeats a flush stays one write short.
   */
  private commitCheckpoint(): void {
    if (this.uncommittedMark === null || this.checkpoint === undefined) return;
    if (this.pending.some((pending) => pending.kind === "metrics")) return;
    this.checkpoint.commit(this.uncommittedMark);
    this.uncommittedMark = null;
    this.committedDrain = this.drains;
  }

  /** Retrying cannot help: the batch goes, counted, and the next one is written without waiting. */
  private dropFirst(batch: PendingBatch, error: PermanentWriteError): void {
    this.pending.shift();
    this.pendingRowCount -= batch.rowCount;
    this.options.rejects.reject(REJECT_SOURCE, "permanent-write-error", batch.rowCount, error.message);
    this.options.logger.error({ err: error, kind: batch.kind, rows: batch.rowCount }, "storage refused a batch for good: dropped it");
  }

  private narrowFirst(batch: PendingBatch, unwritten: readonly unknown[]): void {
    const settled = batch.rowCount - unwritten.length;
    this.pending[0] = batch.narrowedTo(unwritten);
    this.pendingRowCount -= settled;
    this.rowsWritten.inc({ kind: batch.kind }, settled);
  }

  private backoffMs(): number {
    const exponent = Math.max(0, this.consecutiveFailures - 1);
    return Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** Math.min(exponent, 30));
  }
}
