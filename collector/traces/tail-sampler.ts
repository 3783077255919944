import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Span } from "../../core/model/span.ts";
import { PartialWriteError, type StorageWriter } from "../../core/storage/port.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { TwoGenerationCache } from "../endpoints/two-generation-cache.ts";
import type { SpanDurability } from "./span-durability.ts";

export interface TailSamplingPolicy {
  /** How long after its first span a trace waits for the rest before the keep/drop decision. */
  decisionWaitMs: number;
  /** Traces with any span at least this long are kept. */
  slowTraceMs: number;
  /** Share (0..1) of the other traces kept; chosen by trace id, so every collector decides alike. */
  sampleRate: number;
  /** Bound on spans held while waiting; at the bound the oldest traces are decided early. */
  maxBufferedSpans: number;
  /**
   * Kept spans handed to storage and not yet acknowledged. At this many, isOverloaded() asks receivers to
   * refuse new spans (backpressure); past twice this many, kept spans are dropped and counted, so a stalled
   * store can never grow memory without bound (decisions already made keep arriving from the timer).
   */
  maxSpansAwaitingStorage: number;
}

export interface TailSamplerOptions {
  policy: TailSamplingPolicy;
  writer: Pick<StorageWriter, "writeSpans">;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  clock?: () => number;
  /** How often waiting traces are checked; default 1 s. */
  tickMs?: number;
  /**
   * Receives every decided trace's spans, kept or dropped, and afterwards each late span of a decided trace:
   * span metrics are derived here, once the trace's spans are known (collector/traces/span-metrics.ts).
   */
  onDecided?: (spans: readonly Span[]) => void;
  /** Told which kept spans wait for storage, so the write-ahead buffer keeps them until storage answered. */
  durability?: SpanDurability;
}

interface PendingTrace {
  firstSeenMs: number;
  spans: Span[];
  shouldKeep: boolean;
}

const REJECT_SOURCE = "traces";
const WRITE_BATCH = 5_000;

/**
 * Tail sampling: spans wait per trace until the decision time, then the whole trace is kept (any error,
 * any slow span, or the trace id falls in the sampled share) or dropped. Decisions are remembered a while
 * (bounded) so late spans of a decided trace follow it. Memory is bounded by maxBufferedSpans.
 */
export class TailSampler {
  /** Insertion order is arrival order of each trace's first span, so iteration visits the oldest first. */
  private readonly pending = new Map<string, PendingTrace>();
  private readonly decided = new TwoGenerationCache<string, boolean>(100_000);
  private bufferedSpans = 0;
  private spansAwaitingStorage = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly clock: () => number;
  private readonly decisions: Counter<"decision">;
  private readonly bufferedGauge: Gauge;
  private readonly awaitingStorageGauge: Gauge;

  constructor(private readonly options: TailSamplerOptions) {
    const { policy } = options;
    if (!(policy.sampleRate >= 0 && policy.sampleRate <= 1)) throw new RangeError(`sampleRate must be within 0..1, got ${policy.sampleRate}`);
    if (!(policy.maxBufferedSpans >= 1)) throw new RangeError(`maxBufferedSpans must be >= 1, got ${policy.maxBufferedSpans}`);
    if (!(policy.maxSpansAwaitingStorage >= 1)) throw new RangeError(`maxSpansAwaitingStorage must be >= 1, got ${policy.maxSpansAwaitingStorage}`);
    this.clock = options.clock ?? Date.now;
    this.decisions = new Counter({
      name: "meshsight_trace_sampling_decisions_total",
      help: "Tail-sampling decisions per trace: kept_error, kept_slow, kept_sampled, dropped.",
      labelNames: ["decision"],
      registers: [options.registry],
    });
    this.bufferedGauge = new Gauge({ name: "meshsight_trace_buffered_spans", help: "Spans waiting for their trace's sampling decision.", registers: [options.registry] });
    this.awaitingStorageGauge = new Gauge({
      name: "meshsight_trace_spans_awaiting_storage",
      help: "Kept spans handed to storage and not yet written.",
      registers: [options.registry],
      collect: () => this.awaitingStorageGauge.set(this.spansAwaitingStorage),
    });
  }

  /** True while storage is behind by the configured bound: receivers then refuse spans with a retryable error. */
  isOverloaded(): boolean {
    return this.spansAwaitingStorage >= this.options.policy.maxSpansAwaitingStorage;
  }

  start(): void {
    this.timer = setInterval(() => this.decideDue(false), this.options.tickMs ?? 1_000).unref();
  }

  /** Decides every waiting trace now and waits for the writes. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.decideDue(true);
    await this.writing;
  }

  /** Decides every waiting trace now and resolves once the kept spans are written (tests, admin flush). */
  async flush(): Promise<void> {
    this.decideDue(true);
    await this.writing;
  }

  offer(spans: readonly Span[]): void {
    const nowMs = this.clock();
    const toWrite: Span[] = [];
    const late: Span[] = [];
    for (const span of spans) {
      const decision = this.decided.get(span.traceId);
      if (decision !== undefined) {
        if (decision) toWrite.push(span);
        late.push(span);
        continue;
      }
      let trace = this.pending.get(span.traceId);
      if (trace === undefined) {
        trace = { firstSeenMs: nowMs, spans: [], shouldKeep: false };
        this.pending.set(span.traceId, trace);
      }
      trace.spans.push(span);
      this.bufferedSpans++;
    }
    this.write(toWrite);
    this.handOver(late);
    if (this.bufferedSpans > this.options.policy.maxBufferedSpans) this.decideOldestUntilWithinBound();
    this.bufferedGauge.set(this.bufferedSpans);
  }

  /** Decides traces whose wait is over (or all of them); for tests and shutdown. */
  decideDue(all: boolean): void {
    const dueBefore = this.clock() - this.options.policy.decisionWaitMs;
    const toWrite: Span[] = [];
    const decided: Span[] = [];
    for (const [traceId, trace] of this.pending) {
      if (!all && trace.firstSeenMs > dueBefore) break;
      this.decide(traceId, trace, toWrite, decided);
    }
    this.write(toWrite);
    this.handOver(decided);
    this.bufferedGauge.set(this.bufferedSpans);
  }

  private decideOldestUntilWithinBound(): void {
    const toWrite: Span[] = [];
    const decided: Span[] = [];
    const target = Math.floor(this.options.policy.maxBufferedSpans / 2);
    for (const [traceId, trace] of this.pending) {
      if (this.bufferedSpans <= target) break;
      this.decide(traceId, trace, toWrite, decided);
    }
    this.write(toWrite);
    this.handOver(decided);
  }

  private handOver(spans: readonly Span[]): void {
    if (spans.length > 0) this.options.onDecided?.(spans);
  }

  /** Decides one trace: its kept spans go to `toWrite`, all of them (kept or not) to `decided`. */
  private decide(traceId: string, trace: PendingTrace, toWrite: Span[], decided: Span[]): void {
    for (const span of trace.spans) decided.push(span);
    this.pending.delete(traceId);
    this.bufferedSpans -= trace.spans.length;
    const decision = this.decisionFor(traceId, trace.spans);
    this.decisions.inc({ decision });
    const shouldKeep = decision !== "dropped";
    this.decided.set(traceId, shouldKeep);
    if (shouldKeep) for (const span of trace.spans) toWrite.push(span);
  }

  private decisionFor(traceId: string, spans: readonly Span[]): "kept_error" | "kept_slow" | "kept_sampled" | "dropped" {
    const slowNs = this.options.policy.slowTraceMs * 1_000_000;
    let isSlow = false;
    for (const span of spans) {
      if (span.isError) return "kept_error";
      if (span.durationNs >= slowNs) isSlow = true;
    }
    if (isSlow) return "kept_slow";
    return traceIdShare(traceId) < this.options.policy.sampleRate ? "kept_sampled" : "dropped";
  }

  /** Writes are chained so they reach storage in order and stop() can wait for the last one. */
  private write(spans: Span[]): void {
    if (spans.length === 0) return;
    const room = Math.max(0, 2 * this.options.policy.maxSpansAwaitingStorage - this.spansAwaitingStorage);
    if (spans.length > room) {
      this.options.rejects.reject(REJECT_SOURCE, "storage-backlog", spans.length - room, `${this.spansAwaitingStorage} kept spans still wait for storage`);
    }
    const admitted = Math.min(spans.length, room);
    this.spansAwaitingStorage += admitted;
    for (let offset = 0; offset < admitted; offset += WRITE_BATCH) {
      const batch = spans.slice(offset, Math.min(offset + WRITE_BATCH, admitted));
      this.options.durability?.hold(batch);
      this.writing = this.writing.then(async () => {
        try {
          await this.options.writer.writeSpans(batch);
        } catch (error) {
          // Span storage is best effort: metrics were already counted; losing spans is reported, not fatal.
          // After a partial write only the unwritten spans are lost (storage counted any it refused itself).
          const lost = error instanceof PartialWriteError ? error.unwritten.length : batch.length;
          this.options.rejects.reject(REJECT_SOURCE, "storage-write-failed", lost, (error as Error).message);
        } finally {
          this.spansAwaitingStorage -= batch.length;
          this.options.durability?.release(batch);
        }
      });
    }
  }
}

/** A trace id's position in 0..1, from its low 8 hex digits (random in W3C ids), the same on every collector. */
export function traceIdShare(traceId: string): number {
  const low = Number.parseInt(traceId.slice(-8), 16);
  return Number.isFinite(low) ? low / 0x1_0000_0000 : 0;
}
