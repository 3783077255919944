import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { AccessLogEntry, ProxyIdentity } from "../../core/model/access-log.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { AccessLogIngest } from "../ingest.ts";
import type { OverloadSource } from "../pipeline.ts";
import { readSegment, type SegmentLog, type StoredSegment } from "./segment-log.ts";
import { decodeWalRecord, WalRecordEncoder, type SourceDecoder } from "./wal-record.ts";

export interface WriteAheadBufferOptions {
  log: SegmentLog;
  /** Where batches go once logged: the live input (clock-judged). */
  inner: AccessLogIngest;
  /** The pipeline's bounds: a batch it would refuse must not be logged, or a replay would count it. */
  overload: OverloadSource;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
}

/** What a replay hands recovered batches to, and how it makes room when that input pushes back. */
export interface ReplayTarget {
  /** An input judged by the data's own time: a restart after the lateness window must not make the batches late. */
  input: AccessLogIngest;
  /** Writes what is aggregated so far to storage. */
  flush(): Promise<void>;
  /** Decodes the ALS message bytes a record kept. */
  decodeAls: SourceDecoder;
}

const REJECT_SOURCE = "wal";
/** How long a replay waits between flushes while the pipeline still pushes back (storage down). */
const REPLAY_RETRY_MS = 200;

/**
 * The write-ahead buffer (docs/deploy.md, "Crash recovery"), in front of the live access-log input: each
 * batch is appended to the segment log before it is aggregated, the flusher seals the log when it drains
 * the aggregator and commits (deletes) the sealed segments once the drained rows are journaled
 * (drain-journal.ts), and a restarted process replays the segments still there. What was drained is
 * never replayed again, except after a crash during a replay that had to flush mid-segment: a replay's
 * seal covers whole segments only, so the part of a segment flushed before the crash is counted twice.
 */
export class WriteAheadBuffer implements AccessLogIngest {
  private readonly log: SegmentLog;
  private readonly inner: AccessLogIngest;
  private readonly overload: OverloadSource;
  private readonly rejects: RejectCounter;
  private readonly logger: Logger;
  /** While a replay runs: the last stored segment whose batches were all handed over; null otherwise. */
  private replayedThrough: number | null = null;
  private readonly refusedBatches: Counter;
  private readonly replayedEntries: Counter;
  private readonly commits: Counter;
  private readonly encoder = new WalRecordEncoder();

  constructor(options: WriteAheadBufferOptions) {
    this.log = options.log;
    this.inner = options.inner;
    this.overload = options.overload;
    this.rejects = options.rejects;
    this.logger = options.logger;
    const log = this.log;
    new Gauge({
      name: "meshsight_wal_bytes",
      help: "Bytes held by the write-ahead buffer's segments (received, not yet known to be in storage).",
      registers: [options.registry],
      collect() {
        this.set(log.bytes);
      },
    });
    this.refusedBatches = new Counter({
      name: "meshsight_wal_refused_batches_total",
      help: "Batches refused because the write-ahead buffer was full; the receiver pushed back.",
      registers: [options.registry],
    });
    this.replayedEntries = new Counter({
      name: "meshsight_wal_replayed_entries_total",
      help: "Access-log entries recovered from the write-ahead buffer at start-up.",
      registers: [options.registry],
    });
    this.commits = new Counter({
      name: "meshsight_wal_commits_total",
      help: "Times the write-ahead buffer dropped segments whose rows were journaled or stored.",
      registers: [options.registry],
    });
  }

  ingest(proxy: ProxyIdentity, entries: readonly AccessLogEntry[], alsMessage?: Uint8Array): boolean {
    // The pipeline refuses (and counts) the batch itself; logging it first would replay what was never taken.
    if (this.overload.isOverloaded()) return this.inner.ingest(proxy, entries);
    if (!this.log.append(this.encoder.encode(proxy, entries, alsMessage))) {
      this.refusedBatches.inc();
      return false;
    }
    return this.inner.ingest(proxy, entries);
  }

  get aggregatedEntries(): number | undefined {
    return this.inner.aggregatedEntries;
  }

  /** Resolves once every batch taken so far is on disk: what a receiver awaits before acknowledging. */
  durable(): Promise<void> {
    return this.log.sync();
  }

  /**
   * Marks what must be journaled or stored before segments can go (the flusher calls it when it drains):
   * during a replay only the stored segments handed over whole, else everything appended so far.
   */
  seal(): number {
    return this.replayedThrough ?? this.log.seal();
  }

  /** Every row drained up to `mark`'s seal is journaled or stored: those segments are not needed any more. */
  commit(mark: number): void {
    if (mark < 1) return;
    this.log.commit(mark);
    this.commits.inc();
  }

  /** Hands the batches of segments an earlier process left to `target`, oldest first, before any live input. */
  async replay(segments: readonly StoredSegment[], target: ReplayTarget): Promise<void> {
    if (segments.length === 0) return;
    this.replayedThrough = (segments[0]?.number ?? 1) - 1;
    let entries = 0;
    try {
      for (const segment of segments) {
        entries += await this.replaySegment(segment, target);
        this.replayedThrough = segment.number;
      }
    } finally {
      this.replayedThrough = null;
    }
    this.replayedEntries.inc(entries);
    this.logger.info({ component: "wal", segments: segments.length, entries }, "replayed the write-ahead buffer");
  }

  private async replaySegment(segment: StoredSegment, target: ReplayTarget): Promise<number> {
    const { records, isCutShort } = readSegment(segment.path);
    if (isCutShort) this.rejects.reject(REJECT_SOURCE, "torn_record", 1, `${segment.path} ends in a torn or corrupt record`);
    let entries = 0;
    for (const record of records) {
      const batch = decodeWalRecord(record, target.decodeAls);
      if (batch === null) {
        this.rejects.reject(REJECT_SOURCE, "unreadable_record", 1, segment.path);
        continue;
      }
      // Handed over synchronously, so no flush (and no seal) falls inside a segment unless the pipeline pushes back.
      while (!target.input.ingest(batch.proxy, batch.entries)) {
        await target.flush();
        if (this.overload.isOverloaded()) await delay(REPLAY_RETRY_MS);
      }
      entries += batch.entries.length;
    }
    return entries;
  }
}
