import { RESOLUTION_MS } from "../../core/model/metrics.ts";

const MINUTE_MS = RESOLUTION_MS.minute;
const DAY_MS = 86_400_000;

/** Why records of a minute are refused: counted as `aggregate/<refusal>` in meshsight_rejected_total. */
export type AdmissionRefusal = "late" | "future" | "expired";

/**
 * Decides for one kind of input whether a minute still takes records: the time an input is judged by (the
 * wall clock for live streams, the data's own watermark for files). The minute aggregator asks only when an
 * input's records move to another minute, never per record, so the hot path pays nothing for the choice.
 */
export interface MinuteAdmission {
  /** null when the minute starting at `startMs` takes the record at `timeMs`, else why not. */
  refusal(startMs: number, timeMs: number): AdmissionRefusal | null;
  /** The time the last refusal was judged against, for the reject's log detail. */
  readonly referenceMs: number;
}

export interface WallClockAdmissionOptions {
  clock: () => number;
  /** How long after its end, by the clock, a minute stays open for late records. */
  latenessMs: number;
  /** How far ahead of the clock a record may be (proxy clock skew). */
  maxFutureMs: number;
}

/**
 * Live streams (ALS, new lines of tailed files, `POST /api/v1/logs`): a minute closes `latenessMs` after its
 * end by the local clock, and a minute the aggregator already retired (closedBefore) stays closed.
 */
export class WallClockAdmission implements MinuteAdmission {
  referenceMs = 0;
  /** Records of minutes before this were handed over as closed: they are late whatever the clock says. */
  private closedBeforeMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: WallClockAdmissionOptions) {}

  refusal(startMs: number, timeMs: number): AdmissionRefusal | null {
    const nowMs = this.options.clock();
    this.referenceMs = nowMs;
    if (startMs < this.closedBeforeMs || startMs + MINUTE_MS + this.options.latenessMs <= nowMs) return "late";
    if (timeMs > nowMs + this.options.maxFutureMs) return "future";
    return null;
  }

  /** The aggregator handed the minute starting at `startMs` over at `nowMs`; `force` retires it whatever its age. */
  noteDrained(startMs: number, nowMs: number, force: boolean): void {
    if (force || startMs + MINUTE_MS + this.options.latenessMs <= nowMs) this.closedBeforeMs = Math.max(this.closedBeforeMs, startMs + MINUTE_MS);
  }
}

export interface EventTimeAdmissionOptions {
  /** The wall clock, for what the data cannot decide: retention and records from the future. */
  clock: () => number;
  /** Out-of-order tolerance inside the input: how long after its end a minute stays open, by the data's time. */
  latenessMs: number;
  maxFutureMs: number;
  /** Minute metrics older than this are dropped by storage retention: such records are `expired`. */
  retentionMs: number;
}

/** The minutes an input's admitted records fell in: what to query to see them. */
export interface CoveredRange {
  fromMs: number;
  /** End of the last minute (exclusive). */
  toMs: number;
}

/**
 * Files and `meshsight ingest` (history): the input is judged by its own time, not the clock, so a log of
 * any age within retention loads whole. The watermark follows the data: a minute closes once the input
 * reaches a minute starting `latenessMs` or more after its end, so records out of order by up to
 * `latenessMs` are taken and older stragglers are `late`. One instance per input: another file's
 * watermark says nothing about this one's order.
 */
export class EventTimeAdmission implements MinuteAdmission {
  referenceMs = 0;
  private newestStartMs = Number.NEGATIVE_INFINITY;
  private coveredFromMs = Number.POSITIVE_INFINITY;
  private coveredToMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: EventTimeAdmissionOptions) {}

  refusal(startMs: number, timeMs: number): AdmissionRefusal | null {
    const nowMs = this.options.clock();
    this.referenceMs = nowMs;
    if (timeMs > nowMs + this.options.maxFutureMs) return "future";
    if (startMs < nowMs - this.options.retentionMs) return "expired";
    if (startMs > this.newestStartMs) this.newestStartMs = startMs;
    this.referenceMs = this.newestStartMs;
    if (startMs + MINUTE_MS + this.options.latenessMs <= this.newestStartMs) return "late";
    if (startMs < this.coveredFromMs) this.coveredFromMs = startMs;
    if (startMs + MINUTE_MS > this.coveredToMs) this.coveredToMs = startMs + MINUTE_MS;
    return null;
  }

  /** The minutes admitted so far, or null when none was. */
  covered(): CoveredRange | null {
    return this.coveredFromMs > this.coveredToMs ? null : { fromMs: this.coveredFromMs, toMs: this.coveredToMs };
  }
}

/** The smallest range holding every one of `ranges`, or null when none is given. */
export function coveredByAll(ranges: readonly (CoveredRange | null)[]): CoveredRange | null {
  let union: CoveredRange | null = null;
  for (const range of ranges) {
    if (range === null) continue;
    union = union === null ? { ...range } : { fromMs: Math.min(union.fromMs, range.fromMs), toMs: Math.max(union.toMs, range.toMs) };
  }
  return union;
}

/** Storage's minute retention (storage.retention.minuteDays) as the age past which records are expired. */
export function retentionMsOf(minuteDays: number | undefined): number {
  return minuteDays === undefined ? Number.POSITIVE_INFINITY : minuteDays * DAY_MS;
}
