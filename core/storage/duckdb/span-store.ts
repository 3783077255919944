import type { DuckDBConnection } from "@duckdb/node-api";
import type { Span, SpanKind } from "../../model/span.ts";
import { invalidRecordReason, TEXT_MAP, toMapValue } from "./map-values.ts";

const STAGING_TABLE = "spans_staging";
const SPAN_KINDS: ReadonlySet<SpanKind> = new Set(["internal", "server", "client", "producer", "consumer"]);
const TEXT_FIELDS = ["traceId", "spanId", "parentSpanId", "name", "kind", "service", "instance", "endpoint", "peerService", "statusMessage"] as const;
/** BIGINT's top: start times past it (year 2262) cannot be stored. */
const MAX_START_NS = 2n ** 63n - 1n;

/** Why a span cannot be stored, or undefined when it can. */
export function invalidSpanReason(span: Span): string | undefined {
  for (const field of TEXT_FIELDS) {
    if (typeof span[field] !== "string") return `${field} is not a string`;
  }
  // Both ids form the key a duplicate is recognised by; an empty one would merge unrelated spans.
  if (span.traceId === "") return "traceId is empty";
  if (span.spanId === "") return "spanId is empty";
  if (!SPAN_KINDS.has(span.kind)) return `kind ${JSON.stringify(span.kind)} is not a span kind`;
  if (typeof span.startTimeUnixNano !== "bigint" || span.startTimeUnixNano < 0n || span.startTimeUnixNano > MAX_START_NS) {
    return "startTimeUnixNano is not a non-negative 64-bit bigint";
  }
  if (!Number.isSafeInteger(span.durationNs) || span.durationNs < 0) return "durationNs is not a non-negative integer";
  if (span.startTimeUnixNano + BigInt(span.durationNs) > MAX_START_NS) return "the span ends past what a 64-bit nanosecond time holds";
  if (typeof span.isError !== "boolean") return "isError is not a boolean";
  return invalidRecordReason("attributes", span.attributes, "string") ?? invalidRecordReason("resourceAttributes", span.resourceAttributes, "string");
}

/**
 * Appends spans, keeping the first copy of a (trace id, span id): duplicates come from clients that
 * retry and collectors that both receive a span, and carry the same content. Batches go through a
 * staging table so one INSERT ... ON CONFLICT DO NOTHING settles duplicates against stored spans.
 */
export class SpanWriter {
  constructor(private readonly connection: DuckDBConnection) {}

  async prepare(): Promise<void> {
    await this.connection.run(`CREATE TEMP TABLE IF NOT EXISTS ${STAGING_TABLE} AS SELECT * FROM spans WITH NO DATA`);
  }

  /** The caller provides the transaction. */
  async write(spans: readonly Span[]): Promise<void> {
    await this.connection.run(`DELETE FROM ${STAGING_TABLE}`);
    const appender = await this.connection.createAppender(STAGING_TABLE, "main", "temp");
    let isComplete = false;
    try {
      for (const span of firstPerKey(spans)) {
        appender.appendVarchar(span.traceId);
        appender.appendVarchar(span.spanId);
        appender.appendVarchar(span.parentSpanId);
        appender.appendVarchar(span.name);
        appender.appendVarchar(span.kind);
        appender.appendBigInt(span.startTimeUnixNano);
        appender.appendBigInt(BigInt(span.durationNs));
        appender.appendVarchar(span.service);
        appender.appendVarchar(span.instance);
        appender.appendVarchar(span.endpoint);
        appender.appendVarchar(span.peerService);
        appender.appendBoolean(span.isError);
        appender.appendVarchar(span.statusMessage);
        appender.appendMap(toMapValue(span.attributes), TEXT_MAP);
        appender.appendMap(toMapValue(span.resourceAttributes), TEXT_MAP);
        appender.endRow();
      }
      isComplete = true;
    } finally {
      if (!isComplete) appender.clear();
      appender.closeSync();
    }
    await this.connection.run(`INSERT INTO spans SELECT * FROM ${STAGING_TABLE} ON CONFLICT (trace_id, span_id) DO NOTHING`);
  }
}

/** DuckDB refuses one key twice in a statement, so duplicates inside a batch are settled here. */
function firstPerKey(spans: readonly Span[]): Span[] {
  const seen = new Map<string, Span>();
  for (const span of spans) {
    const key = JSON.stringify([span.traceId, span.spanId]);
    if (!seen.has(key)) seen.set(key, span);
  }
  return [...seen.values()];
}
