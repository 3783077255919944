import type { DuckDBConnection } from "@duckdb/node-api";
import type { Span, SpanKind } from "../../model/span.ts";
import { invalidRecordReason, recordJson } from "./map-values.ts";
import { StagingTable } from "./staging-table.ts";

const STAGING_TABLE = "spans_staging";
/**
 * The staging table has the spans columns, except that the two attribute maps arrive as JSON text and are
 * cast to MAP inside DuckDB: appending MAP values through @duckdb/node-api builds a value object per entry
 * and cost more than the rest of the span path together (bench/README.md, traces).
 */
const STAGING_COLUMNS = `trace_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR, name VARCHAR, kind VARCHAR, start_time_ns BIGINT,
  duration_ns BIGINT, service VARCHAR, instance VARCHAR, endpoint VARCHAR, peer_service VARCHAR, is_error BOOLEAN,
  status_message VARCHAR, attributes_json VARCHAR, resource_attributes_json VARCHAR`;
const FROM_STAGING = `SELECT trace_id, span_id, parent_span_id, name, kind, start_time_ns, duration_ns, service, instance, endpoint,
  peer_service, is_error, status_message, CAST(CAST(attributes_json AS JSON) AS MAP(VARCHAR, VARCHAR)),
  CAST(CAST(resource_attributes_json AS JSON) AS MAP(VARCHAR, VARCHAR)) FROM ${STAGING_TABLE}`;
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
  private readonly staging: StagingTable;

  constructor(connection: DuckDBConnection) {
    this.staging = new StagingTable(connection, STAGING_TABLE, STAGING_COLUMNS, `INSERT INTO spans ${FROM_STAGING} ON CONFLICT (trace_id, span_id) DO NOTHING`);
  }

  prepare(): Promise<void> {
    return this.staging.prepare();
  }

  /** The caller provides the transaction. */
  write(spans: readonly Span[]): Promise<void> {
    // Spans of one resource share its attribute object: its JSON is made once per batch.
    const resourceJson = new Map<Readonly<Record<string, string>>, string>();
    return this.staging.write(firstPerKey(spans), (appender, span) => {
      let resource = resourceJson.get(span.resourceAttributes);
      if (resource === undefined) {
        resource = recordJson(span.resourceAttributes);
        resourceJson.set(span.resourceAttributes, resource);
      }
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
      appender.appendVarchar(recordJson(span.attributes));
      appender.appendVarchar(resource);
    });
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
