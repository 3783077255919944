import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Span } from "../../core/model/span.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { SpanInput } from "../span-input.ts";
import type { SpanDurability } from "../traces/span-durability.ts";
import type { CountedSpans } from "./drain-journal.ts";
import { readSegment, type SegmentLog, type StoredSegment } from "./segment-log.ts";
import { decodeSpanRecord, encodeSpanRecord, type SpanProtocol } from "./span-record.ts";

/** Takes replayed spans of one request, attributed to the segment they were logged in. */
export type SpanReplayTarget = (inputs: readonly SpanInput[], segment: number) => void;

export interface SpanWriteAheadOptions {
  log: SegmentLog;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
}

const REJECT_SOURCE = "wal";

/**
 * The write-ahead buffer for span requests (docs/deploy.md, "Crash recovery"), in its own segment log.
 * Spans are not stored when received: they wait for tail sampling, then their metrics join the minute
 * aggregates and kept spans are written. So a segment may go only once every span logged in it is settled
 * (SpanDurability: metrics handed to the pipeline, kept spans answered by storage) and the flusher has
 * journaled a drain made after that: the flusher's seal is capped below the oldest segment still holding an
 * unsettled span. Spans of one segment are decided at different times, so each drain also journals which
 * spans of the segments still on disk have their metrics in it or before it (countedSpans): a replay hands
 * those to tail sampling to be stored, but does not count them again.
 */
export class SpanWriteAhead implements SpanDurability {
  private readonly log: SegmentLog;
  private readonly rejects: RejectCounter;
  private readonly logger: Logger;
  /** Segment -> holds of its spans not yet released. */
  private readonly unsettled = new Map<number, number>();
  private readonly segmentOf = new WeakMap<Span, number>();
  /** Segment -> ids of its spans whose metrics reached the aggregator (here or, read at open, before a crash). */
  private readonly countedIn = new Map<number, Set<string>>();
  /** Segments an earlier process left, until they are replayed: nothing may commit them before. */
  private stored: StoredSegment[] = [];
  private readonly refusedRequests: Counter;
  private readonly replayedSpans: Counter;

  constructor(options: SpanWriteAheadOptions) {
    this.log = options.log;
    this.rejects = options.rejects;
    this.logger = options.logger;
    const log = this.log;
    new Gauge({
      name: "meshsight_wal_span_bytes",
      help: "Bytes held by the span write-ahead buffer's segments (received spans not yet settled and stored).",
      registers: [options.registry],
      collect() {
        this.set(log.bytes);
      },
    });
    this.refusedRequests = new Counter({
      name: "meshsight_wal_refused_span_requests_total",
      help: "Span requests refused because the span write-ahead buffer was full; the receiver pushed back.",
      registers: [options.registry],
    });
    this.replayedSpans = new Counter({
      name: "meshsight_wal_replayed_spans_total",
      help: "Spans recovered from the write-ahead buffer at start-up.",
      registers: [options.registry],
    });
  }

  /**
   * Opens the segments; those an earlier process left (and did not commit, segment-log.ts) wait for replay(),
   * which does not count the spans `counted` names again.
   */
  open(committedThrough = 0, counted: CountedSpans = {}): void {
    this.stored = this.log.open(committedThrough);
    // Only segments still on disk: numbers start again after the last one, so others may be reused.
    for (const { number } of this.stored) {
      const ids = counted[number];
      if (ids !== undefined) this.countedIn.set(number, new Set(ids));
    }
    this.logger.info({ component: "wal", segments: this.stored.length, bytes: this.log.bytes }, "span write-ahead buffer open");
  }

  close(): void {
    this.log.close();
  }

  /** True (and counted) when a request must be refused because the log is at its bound. */
  refuses(): boolean {
    if (!this.log.isFull()) return false;
    this.refusedRequests.inc();
    return true;
  }

  /** Logs a request's valid spans; returns the segment they went to. Call refuses() first. */
  append(protocol: SpanProtocol, inputs: readonly SpanInput[]): number {
    // Read before appending: a record that fills the live segment rotates the log past it.
    const segment = this.log.liveSegment;
    this.log.append([encodeSpanRecord(protocol, inputs)]);
    return segment;
  }

  /** `spans` were logged in `segment`: each is held until its metrics reach the pipeline. */
  track(spans: readonly Span[], segment: number): void {
    for (const span of spans) this.segmentOf.set(span, segment);
    this.unsettled.set(segment, (this.unsettled.get(segment) ?? 0) + spans.length);
  }

  hold(spans: readonly Span[]): void {
    this.adjust(spans, 1);
  }

  release(spans: readonly Span[]): void {
    this.adjust(spans, -1);
  }

  counted(spans: readonly Span[]): void {
    for (const span of spans) {
      const segment = this.segmentOf.get(span);
      if (segment === undefined) continue;
      const ids = this.countedIn.get(segment) ?? new Set<string>();
      ids.add(idOf(span));
      this.countedIn.set(segment, ids);
    }
  }

  wasCounted(span: Span): boolean {
    const segment = this.segmentOf.get(span);
    return segment !== undefined && this.countedIn.get(segment)?.has(idOf(span)) === true;
  }

  /** What the flusher journals with each drain: counted spans of every segment not yet committed. */
  countedSpans(): CountedSpans {
    return Object.fromEntries([...this.countedIn].map(([segment, ids]) => [segment, [...ids]]));
  }

  /** Resolves once every request logged so far is on disk: what a receiver awaits before acknowledging. */
  durable(): Promise<void> {
    return this.log.sync();
  }

  /** The flusher's mark: segments below every unsettled span (and every unreplayed one) may go once this drain is stored. */
  seal(): number {
    let mark = this.log.seal();
    for (const segment of this.unsettled.keys()) mark = Math.min(mark, segment - 1);
    const firstStored = this.stored[0];
    return firstStored === undefined ? mark : Math.min(mark, firstStored.number - 1);
  }

  commit(mark: number): void {
    if (mark < 1) return;
    this.log.commit(mark);
    for (const segment of this.countedIn.keys()) if (segment <= mark) this.countedIn.delete(segment);
  }

  /** Hands the spans of segments an earlier process left to `target`, oldest first, before any receiver starts. */
  replay(target: SpanReplayTarget): void {
    let spans = 0;
    for (const segment of this.stored) {
      const { records, isCutShort } = readSegment(segment.path);
      if (isCutShort) this.rejects.reject(REJECT_SOURCE, "torn_record", 1, `${segment.path} ends in a torn or corrupt record`);
      for (const record of records) {
        const request = decodeSpanRecord(record);
        if (request === null) {
          this.rejects.reject(REJECT_SOURCE, "unreadable_record", 1, segment.path);
          continue;
        }
        target(request.inputs, segment.number);
        spans += request.inputs.length;
      }
    }
    if (this.stored.length > 0) this.logger.info({ component: "wal", segments: this.stored.length, spans }, "replayed the span write-ahead buffer");
    this.stored = [];
    this.replayedSpans.inc(spans);
  }

  private adjust(spans: readonly Span[], delta: number): void {
    for (const span of spans) {
      const segment = this.segmentOf.get(span);
      if (segment === undefined) continue;
      const holds = (this.unsettled.get(segment) ?? 0) + delta;
      if (holds === 0) this.unsettled.delete(segment);
      else this.unsettled.set(segment, holds);
    }
  }
}

function idOf(span: Span): string {
  return `${span.traceId}:${span.spanId}`;
}
