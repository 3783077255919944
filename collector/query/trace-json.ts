import type { Span } from "../../core/model/span.ts";

/** A span as the v1 API returns it: JSON has no bigint, so nanoseconds travel as a decimal string. */
export interface SpanJson extends Omit<Span, "startTimeUnixNano"> {
  startTimeUnixNano: string;
  startTimeMs: number;
  durationMs: number;
}

export function toSpanJson(span: Span): SpanJson {
  return {
    ...span,
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    startTimeMs: Number(span.startTimeUnixNano / 1_000_000n),
    durationMs: span.durationNs / 1_000_000,
  };
}

/** Trace ids are stored as 32 lower-case hex digits; Zipkin users may ask with 16. */
export function normalizeTraceIdParam(value: string): string | null {
  const lower = value.toLowerCase();
  if (!/^[0-9a-f]{16}$|^[0-9a-f]{32}$/.test(lower)) return null;
  return lower.length === 16 ? lower.padStart(32, "0") : lower;
}
