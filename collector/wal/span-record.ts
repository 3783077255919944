import type { SpanInput } from "../span-input.ts";

export type SpanProtocol = "otlp" | "zipkin";

/** One span request as the write-ahead buffer keeps it: its protocol and its valid spans, before mapping. */
export interface WalSpans {
  protocol: SpanProtocol;
  inputs: SpanInput[];
}

/**
 * The first byte of a span record; the access-log kinds (wal-record.ts) use others, so a record in the
 * wrong log is refused on replay, not misread. What follows is JSON `{ r: protocol, s: spans }` with the
 * start time as a decimal string (JSON has no 64-bit integers).
 */
const KIND_SPANS = 3;

export function encodeSpanRecord(protocol: SpanProtocol, inputs: readonly SpanInput[]): Buffer {
  const json = JSON.stringify({ r: protocol, s: inputs }, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  return Buffer.from(`\u0003${json}`);
}

/** The spans a record holds, or null when it is not a span record this version wrote. */
export function decodeSpanRecord(record: Buffer): WalSpans | null {
  try {
    if (record.readUInt8(0) !== KIND_SPANS) return null;
    const { r, s } = JSON.parse(record.toString("utf8", 1)) as { r?: unknown; s?: unknown };
    if ((r !== "otlp" && r !== "zipkin") || !Array.isArray(s)) return null;
    const inputs = (s as (Omit<SpanInput, "startTimeUnixNano"> & { startTimeUnixNano: string })[]).map((input) => ({ ...input, startTimeUnixNano: BigInt(input.startTimeUnixNano) }));
    return { protocol: r, inputs };
  } catch {
    return null;
  }
}
