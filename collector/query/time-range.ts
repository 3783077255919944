import { RESOLUTION_MS, type Resolution } from "../../core/model/metrics.ts";

/** A query window, half-open [fromMs, toMs), already aligned to whole minutes. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
  /**
   * Start of the last minute that had ended by the range's unaligned end, whose calls are the "current"
   * rate shown beside the range's average; absent: the range's last minute.
   */
  currentMinuteMs?: number;
}

/** The minute a "current" figure reads: the last complete one of the range (see TimeRange.currentMinuteMs). */
export function currentMinute(range: TimeRange): TimeRange {
  const fromMs = range.currentMinuteMs ?? range.toMs - RESOLUTION_MS.minute;
  return { fromMs, toMs: fromMs + RESOLUTION_MS.minute };
}

export const DEFAULT_WINDOW_MS = 30 * 60_000;

/** Parses an API time value: epoch milliseconds or an RFC 3339 timestamp. Returns null when it is neither. */
export function parseTimeValue(value: string): number | null {
  if (/^\d{1,16}$/.test(value)) return Number(value);
  // Date.parse also accepts loose formats; require the RFC 3339 shape so mistakes are reported, not guessed.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Minute buckets are labelled by their start, so a range covers every minute it touches: `from` rounds
 * down and `to` rounds up to whole minutes.
 */
export function alignToMinutes(fromMs: number, toMs: number): TimeRange {
  const minute = RESOLUTION_MS.minute;
  return { fromMs: Math.floor(fromMs / minute) * minute, toMs: Math.ceil(toMs / minute) * minute };
}

export function rangeMinutes(range: TimeRange): number {
  return Math.max(1, (range.toMs - range.fromMs) / RESOLUTION_MS.minute);
}

/** The coarsest stored resolution that still gives a useful number of points for the range. */
export function defaultResolution(range: TimeRange): Resolution {
  const span = range.toMs - range.fromMs;
  if (span <= 12 * RESOLUTION_MS.hour) return "minute";
  if (span <= 14 * RESOLUTION_MS.day) return "hour";
  return "day";
}
