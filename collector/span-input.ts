import type { SpanKind } from "../core/model/span.ts";

/**
 * A span as a receiver hands it over, before dimension mapping: what OTLP (protobuf or JSON) and Zipkin v2
 * (JSON or proto3) have in common. Receivers only decode into this shape; mapping to service, instance,
 * endpoint and relation happens once, in span-mapping.ts, for every protocol.
 */
export interface SpanInput {
  /** Lower-case hex: 32 digits for a trace id, 16 for span ids; "" for a root span's parent. */
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: bigint;
  durationNs: number;
  /** OTLP status code ERROR (Zipkin: an `error` tag). */
  hasErrorStatus: boolean;
  statusMessage: string;
  attributes: Record<string, string>;
  /** Shared by every span of one resource (one process): never mutate it per span. */
  resourceAttributes: Record<string, string>;
}

/** Why a span could not be taken; each becomes a counted reject with this reason. */
export type SpanRejectReason = "missing-trace-id" | "missing-span-id" | "bad-id" | "bad-timestamp";

/** Bounds on what one span may carry, so a hostile client cannot make one span cost megabytes. */
export const MAX_ATTRIBUTES_PER_SPAN = 128;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 4096;
export const MAX_NAME_LENGTH = 1024;

const HEX_ID = /^[0-9a-f]+$/;

/**
 * Checks ids and times, returning the reason a span is unusable or null. Ids must be non-zero hex of the
 * right length (W3C trace context: an all-zero id is invalid).
 */
export function validateSpanInput(span: SpanInput): SpanRejectReason | null {
  if (span.traceId === "" || /^0+$/.test(span.traceId)) return "missing-trace-id";
  if (span.spanId === "" || /^0+$/.test(span.spanId)) return "missing-span-id";
  if (span.traceId.length !== 32 || span.spanId.length !== 16 || !HEX_ID.test(span.traceId) || !HEX_ID.test(span.spanId)) return "bad-id";
  if (span.parentSpanId !== "" && (span.parentSpanId.length !== 16 || !HEX_ID.test(span.parentSpanId))) return "bad-id";
  if (span.startTimeUnixNano <= 0n || !(span.durationNs >= 0) || !Number.isFinite(span.durationNs)) return "bad-timestamp";
  return null;
}

/** Adds an attribute within the per-span bounds; returns false when the span is full. */
export function putAttribute(target: Record<string, string>, key: string, value: string, count: number): boolean {
  if (count >= MAX_ATTRIBUTES_PER_SPAN) return false;
  target[key] = value.length > MAX_ATTRIBUTE_VALUE_LENGTH ? value.slice(0, MAX_ATTRIBUTE_VALUE_LENGTH) : value;
  return true;
}

/** Zipkin allows 16-digit trace ids; the store keeps one width so lookups by either form meet. */
export function normalizeTraceId(hex: string): string {
  const lower = hex.toLowerCase();
  return lower.length === 16 ? lower.padStart(32, "0") : lower;
}
