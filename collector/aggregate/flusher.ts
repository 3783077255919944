import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { EntityRecord } from "../../core/model/dimensions.ts";
import { RESOLUTION_MS, type MinuteMetrics } from "../../core/model/metrics.ts";
import type { SampledRecord } from "../../core/model/sample.ts";
import { PartialWriteError, PermanentWriteError, type StorageWriter } from "../../core/storage/port.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { CountedSpans, DrainJournal, JournaledKind, RecoveredDrain } from "../wal/drain-journal.ts";
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
   * A write-ahead buffer to checkpoint: sealed whenever the aggregator is drained, committed once every row
   * drained up to that seal is journaled (or, without a journal, in storage).
   */
  checkpoint?: FlushCheckpoint;
  /** Where drains are journaled before they are written, with the checkpoint's marks (drain-journal.ts). */
  journal?: DrainJournal;
  /**
   * The spans whose metrics are in the aggregator or in drains journaled before, read in the turn of each
   * drain and journaled with it, so a replay of their span segments does not count them again.
   */
  countedSpans?: () => CountedSpans;
  /** Told how many minute rows and entities each drain gave (heap-release.ts watches for the end of a flood). */
  onDrained?: (rows: number) => void;
}

export interface FlushCheckpoint {
  /** Marks everything received so far; called right before a drain, in the same synchronous turn. */
  seal(): readonly number[];
  /** Every row drained up to the seal that returned `marks` is journaled or in storage. */
  commit(marks: readonly number[]): void;
}

type BatchKind = JournaledKind;

/** Where a batch is journaled: storing it settles that record. */
interface JournalEntry {
  drain: string;
  /** The batch's write id: metric batches are written under it. */
  id: number;
}

/** A batch bound to its write call, so retrying it needs no knowledge of its row type. */
interface PendingBatch {
  kind: BatchKind;
  rowCount: number;
  /** Which drain the rows came from (1, 2, ...; 0 for an earlier process's): whether a write-ahead buffer still holds what they were made of. */
  drain: number;
  journaled: JournalEntry | undefined;
  write(): Promise<void>;
  /** The same batch narrowed to the rows a partial write left unwritten. */
  narrowedTo(unwritten: readonly unknown[]): PendingBatch;
}

function pendingBatch(kind: BatchKind, drain: number, journaled: JournalEntry | undefined, rows: readonly unknown[], write: (rows: readonly unknown[]) => Promise<void>): PendingBatch {
  return {
    kind,
    rowCount: rows.length,
    drain,
    journaled,
    write: () => write(rows),
    // The writer hands back rows of the batch it was given (core/storage/port.ts, PartialWriteError).
    narrowedTo: (unwritten) => pendingBatch(kind, drain, journaled, unwritten, write),
  };
}

/**
 * Minute rows by UTC day: a metric write with an id holds one day's rows (core/storage/port.ts), which on
 * ClickHouse is one partition, so its INSERT is one part, stored whole or not at all.
 */
function byUtcDay(rows: readonly MinuteMetrics[]): MinuteMetrics[][] {
  const days = new Map<number, MinuteMetrics[]>();
  for (const row of rows) {
    const day = Math.floor(row.timeMs / DAY_MS);
    const dayRows = days.get(day);
    if (dayRows === undefined) days.set(day, [row]);
    else dayRows.push(row);
  }
  return [...days.values()];
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
const DAY_MS = RESOLUTION_MS.day;

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
  private readonly options: Required<Omit<FlusherOptions, "clock" | "checkpoint" | "journal" | "onDrained" | "countedSpans">>;
  private readonly checkpoint: FlushCheckpoint | undefined;
  private readonly journal: DrainJournal | undefined;
  private readonly onDrained: ((rows: number) => void) | undefined;
  private readonly countedSpans: (() => CountedSpans) | undefined;
  /** The checkpoint's marks at the last drain whose rows are not all known to be journaled or in storage yet. */
  private uncommittedMark: readonly number[] | null = null;
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
  private readonly recoveredBatches: Counter<"kind" | "outcome">;
  private readonly pendingGauge: Gauge;

  constructor(options: FlusherOptions) {
    this.options = { ...DEFAULTS, ...options };
    for (const name of ["intervalMs", "batchRows", "maxPendingRows", "stopAttempts"] as const) {
      if (!(this.options[name] >= 1)) throw new RangeError(`Flusher: ${name} must be >= 1, got ${this.options[name]}`);
    }
    this.clock = options.clock ?? Date.now;
    this.checkpoint = options.checkpoint;
    this.journal = options.checkpoint === undefined ? undefined : options.journal;
    this.onDrained = options.onDrained;
    this.countedSpans = options.countedSpans;
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
    this.recoveredBatches = new Counter({
      name: "meshsight_flush_recovered_batches_total",
      help: "Batches an earlier process journaled and did not see stored, by kind and outcome: written now, or found in storage already (a metric write the crash cut off after storage took it).",
      labelNames: ["kind", "outcome"],
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

  /**
   * Takes the batches an earlier process journaled and storage was not seen to take; they are written first.
   * A metric batch asks storage for its write id before being written again: the crash may have come after
   * storage took it.
   */
  recover(drains: readonly RecoveredDrain[]): void {
    for (const drain of drains) {
      for (const batch of drain.batches) {
        const journaled = { drain: drain.name, id: batch.id };
        const write = this.writeOf(batch.kind, batch.id);
        let isUnchecked = batch.kind === "metrics";
        const recovered = async (rows: readonly unknown[]): Promise<void> => {
          const [first] = rows as readonly MinuteMetrics[];
          if (isUnchecked && first !== undefined && (await this.options.writer.isMetricWriteStored(batch.id, first.timeMs))) {
            this.recoveredBatches.inc({ kind: batch.kind, outcome: "stored_before" });
            return;
          }
          // Asked once: after a partial write the id is stored with only some of the rows.
          isUnchecked = false;
          await write(rows);
          this.recoveredBatches.inc({ kind: batch.kind, outcome: "written" });
        };
        this.pending.push(pendingBatch(batch.kind, 0, journaled, batch.rows, recovered));
        this.pendingRowCount += batch.rows.length;
      }
    }
    this.pendingGauge.set(this.pendingRowCount);
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
   * Drops what storage would not take on stop. Journaled rows, and rows drained after the last committed
   * checkpoint, are not lost: the journal keeps them, or the write-ahead buffer their input, for the next
   * start, so they are no reject.
   */
  private giveUpPending(): void {
    const isKept = (batch: PendingBatch): boolean => batch.journaled !== undefined || (this.checkpoint !== undefined && batch.drain > this.committedDrain);
    const replayedRows = this.pending.reduce((rows, batch) => (isKept(batch) ? rows + batch.rowCount : rows), 0);
    const lostRows = this.pendingRowCount - replayedRows;
    if (lostRows > 0) {
      this.options.rejects.reject(REJECT_SOURCE, "dropped-on-stop", lostRows, "storage kept failing during shutdown");
      this.options.logger.error({ rows: lostRows }, "collector stopped with rows storage would not take: they are lost");
    }
    if (replayedRows > 0) this.options.logger.warn({ rows: replayedRows }, "storage would not take these rows before stop: the write-ahead buffer keeps them for the next start");
    this.pending.length = 0;
    this.pendingRowCount = 0;
  }

  private async flushOnce(force: boolean, ignoreBackoff: boolean): Promise<void> {
    this.isBusy = true;
    const endTimer = this.duration.startTimer();
    try {
      const nowMs = this.clock();
      // Sealed in the same turn as the drain, so no record falls between the mark and the drained rows.
      const marks = this.checkpoint?.seal();
      if (marks !== undefined) this.uncommittedMark = marks;
      const counted = this.countedSpans?.();
      this.drains++;
      const drained = this.options.aggregator.drain(nowMs, force);
      this.onDrained?.(drained.metrics.length + drained.entities.length);
      const batches = [
        ...byUtcDay(drained.metrics).flatMap((rows) => this.chunks("metrics", rows)),
        ...this.chunks("entities", drained.entities),
        ...this.chunks("samples", this.options.sampler.drain()),
      ];
      await this.enqueue(batches, marks, counted);
      this.commitCheckpoint();
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

  private chunks(kind: BatchKind, rows: readonly unknown[]): { kind: BatchKind; rows: readonly unknown[] }[] {
    const { batchRows } = this.options;
    const chunks = [];
    for (let start = 0; start < rows.length; start += batchRows) chunks.push({ kind, rows: rows.slice(start, start + batchRows) });
    return chunks;
  }

  /**
   * Journals the drain's batches (when there is a journal), then queues them. A drain that cannot be
   * journaled (a full or failing disk) is written all the same, and its checkpoint then waits for storage,
   * as without a journal.
   */
  private async enqueue(batches: readonly { kind: BatchKind; rows: readonly unknown[] }[], marks: readonly number[] | undefined, counted: CountedSpans | undefined): Promise<void> {
    const journal = this.journal;
    const journaled = journal === undefined ? [] : batches.map((batch) => ({ ...batch, id: journal.newWriteId() }));
    let drain: string | undefined;
    if (journal !== undefined && marks !== undefined && batches.length > 0) {
      try {
        drain = await journal.record(marks, journaled, counted);
      } catch (error) {
        this.options.logger.error({ err: error }, "could not journal a drain: the write-ahead buffer keeps its input until storage takes it");
      }
    }
    batches.forEach((batch, index) => {
      const id = journaled[index]?.id;
      const entry = drain === undefined || id === undefined ? undefined : { drain, id };
      this.pending.push(pendingBatch(batch.kind, this.drains, entry, batch.rows, this.writeOf(batch.kind, entry?.id)));
      this.pendingRowCount += batch.rows.length;
    });
  }

  /** The writer call for a kind of batch; rows of a journaled batch come back from JSON as they were written. */
  private writeOf(kind: BatchKind, writeId: number | undefined): (rows: readonly unknown[]) => Promise<void> {
    const { writer } = this.options;
    switch (kind) {
      case "metrics":
        return (rows) => writer.writeMetrics(rows as readonly MinuteMetrics[], writeId);
      case "entities":
        return (rows) => writer.writeEntities(rows as readonly EntityRecord[]);
      case "samples":
        return (rows) => writer.writeSamples(rows as readonly SampledRecord[]);
    }
  }

  private dropOldestBeyondBound(): void {
    let droppedRows = 0;
    while (this.pendingRowCount > this.options.maxPendingRows) {
      const oldest = this.pending.shift();
      if (oldest === undefined) break;
      this.pendingRowCount -= oldest.rowCount;
      droppedRows += oldest.rowCount;
      this.settle(oldest);
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
      this.settle(batch);
      this.rowsWritten.inc({ kind: batch.kind }, batch.rowCount);
      this.consecutiveFailures = 0;
      if (batch.kind === "metrics") this.commitCheckpoint();
    }
    this.commitCheckpoint();
  }

  /**
   * Commits the last seal once no metric row drained up to it waits unjournaled (batches go in drain order):
   * journaled rows no longer need their input. Metrics are what a replay would count twice; entities and
   * samples left unwritten are upserts and samples, so without a journal the checkpoint does not wait for them.
   */
  private commitCheckpoint(): void {
    if (this.uncommittedMark === null || this.checkpoint === undefined) return;
    if (this.pending.some((pending) => pending.kind === "metrics" && pending.journaled === undefined)) return;
    this.checkpoint.commit(this.uncommittedMark);
    this.uncommittedMark = null;
    this.committedDrain = this.drains;
  }

  /** Retrying cannot help: the batch goes, counted, and the next one is written without waiting. */
  private dropFirst(batch: PendingBatch, error: PermanentWriteError): void {
    this.pending.shift();
    this.pendingRowCount -= batch.rowCount;
    this.settle(batch);
    this.options.rejects.reject(REJECT_SOURCE, "permanent-write-error", batch.rowCount, error.message);
    this.options.logger.error({ err: error, kind: batch.kind, rows: batch.rowCount }, "storage refused a batch for good: dropped it");
  }

  private narrowFirst(batch: PendingBatch, unwritten: readonly unknown[]): void {
    const settled = batch.rowCount - unwritten.length;
    this.pending[0] = batch.narrowedTo(unwritten);
    this.pendingRowCount -= settled;
    this.rowsWritten.inc({ kind: batch.kind }, settled);
  }

  /** The batch is stored or given up: a restart must not write it again. */
  private settle(batch: PendingBatch): void {
    if (batch.journaled !== undefined) this.journal?.settle(batch.journaled.drain, batch.journaled.id);
  }

  private backoffMs(): number {
    const exponent = Math.max(0, this.consecutiveFailures - 1);
    return Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** Math.min(exponent, 30));
  }
}
