import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import type { Span, SpanKind } from "../../model/span.ts";
import type { TraceQuery, TraceSummary } from "../port.ts";
import { integerParam, toNumber, toText } from "./database.ts";
import { toTextRecord } from "./map-values.ts";

/** Upper bound on rows one read returns, whatever the caller asks: results are held in memory. */
export const MAX_READ_ROWS = 10_000;
const NS_PER_MS = 1_000_000n;

/**
 * The root span of a trace is the earliest span without a parent; when the root never arrived, the
 * earliest span stands in. Span id breaks ties so every adapter names the same root.
 */
const ROOT_ORDER = "{'has_parent': parent_span_id <> '', 'start': start_time_ns, 'span': span_id}";

/** Every span of the trace, ordered by start time (span id on ties); at most MAX_READ_ROWS. */
export async function getTrace(connection: DuckDBConnection, traceId: string): Promise<Span[]> {
  if (typeof traceId !== "string") throw new TypeError("traceId must be a string");
  const reader = await connection.runAndReadAll(`SELECT * FROM spans WHERE trace_id = $1 ORDER BY start_time_ns, span_id LIMIT ${MAX_READ_ROWS}`, [traceId]);
  return reader.getRowObjectsJS().map(toSpan);
}

export async function searchTraces(connection: DuckDBConnection, query: TraceQuery): Promise<TraceSummary[]> {
  const values: DuckDBValue[] = [nsBound("fromMs", query.fromMs), nsBound("toMs", query.toMs)];
  const conditions = ["start_time_ns >= $1", "start_time_ns < $2"];
  const bind = (value: DuckDBValue): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (query.service !== undefined) conditions.push(`service = ${bind(query.service)}`);
  if (query.name !== undefined) {
    const name = bind(query.name);
    conditions.push(`(name = ${name} OR endpoint = ${name})`);
  }
  if (query.minDurationMs !== undefined) conditions.push(`duration_ns >= ${bind(durationNs("minDurationMs", query.minDurationMs))}`);
  if (query.maxDurationMs !== undefined) conditions.push(`duration_ns <= ${bind(durationNs("maxDurationMs", query.maxDurationMs))}`);
  if (query.onlyErrors === true) conditions.push("is_error");
  for (const [key, value] of Object.entries(query.attributes ?? {})) {
    conditions.push(`list_contains(map_extract(attributes, ${bind(key)}), ${bind(value)})`);
  }
  const limit = bind(integerParam("limit", Math.min(Math.max(0, query.limit), MAX_READ_ROWS), Math.floor));
  // Matching picks traces by any one span; the summary then covers every span of those traces.
  const sql = `WITH matched AS (SELECT DISTINCT trace_id FROM spans WHERE ${conditions.join(" AND ")})
SELECT trace_id,
  min(start_time_ns) AS start_ns,
  max(start_time_ns + duration_ns) AS end_ns,
  count(*) AS span_count,
  count(*) FILTER (WHERE is_error) AS error_count,
  list(DISTINCT service ORDER BY service) AS services,
  arg_min(service, ${ROOT_ORDER}) AS root_service,
  arg_min(name, ${ROOT_ORDER}) AS root_name
FROM spans WHERE trace_id IN (SELECT trace_id FROM matched)
GROUP BY trace_id ORDER BY start_ns DESC, trace_id LIMIT ${limit}`;
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJS().map(toSummary);
}

export async function listSpanServices(connection: DuckDBConnection, fromMs: number, toMs: number): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT service FROM spans WHERE start_time_ns >= $1 AND start_time_ns < $2 ORDER BY service LIMIT ${MAX_READ_ROWS}`,
    [nsBound("fromMs", fromMs), nsBound("toMs", toMs)],
  );
  return reader.getRowObjectsJS().map((row) => toText(row.service));
}

export async function listSpanNames(connection: DuckDBConnection, service: string, fromMs: number, toMs: number): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT name FROM spans WHERE service = $1 AND start_time_ns >= $2 AND start_time_ns < $3 ORDER BY name LIMIT ${MAX_READ_ROWS}`,
    [service, nsBound("fromMs", fromMs), nsBound("toMs", toMs)],
  );
  return reader.getRowObjectsJS().map((row) => toText(row.name));
}

/** A millisecond bound as nanoseconds; fractional bounds round up, as for the other tables' half-open ranges. */
function nsBound(what: string, ms: number): bigint {
  return integerParam(what, ms, Math.ceil) * NS_PER_MS;
}

/** Rounded to whole nanoseconds, finer than any clock a span comes from, so 1.5 ms is exactly 1 500 000 ns. */
function durationNs(what: string, ms: number): bigint {
  return integerParam(what, ms * 1e6, Math.round);
}

function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw new TypeError(`expected an integer from DuckDB, got ${typeof value}`);
}

function toSpan(row: Record<string, unknown>): Span {
  return {
    traceId: toText(row.trace_id),
    spanId: toText(row.span_id),
    parentSpanId: toText(row.parent_span_id),
    name: toText(row.name),
    kind: toText(row.kind) as SpanKind,
    startTimeUnixNano: toBigInt(row.start_time_ns),
    durationNs: toNumber(row.duration_ns),
    service: toText(row.service),
    instance: toText(row.instance),
    endpoint: toText(row.endpoint),
    peerService: toText(row.peer_service),
    isError: row.is_error === true,
    statusMessage: toText(row.status_message),
    attributes: toTextRecord(row.attributes),
    resourceAttributes: toTextRecord(row.resource_attributes),
  };
}

function toSummary(row: Record<string, unknown>): TraceSummary {
  const startNs = toBigInt(row.start_ns);
  const endNs = toBigInt(row.end_ns);
  return {
    traceId: toText(row.trace_id),
    rootService: toText(row.root_service),
    rootName: toText(row.root_name),
    startTimeMs: Number(startNs / NS_PER_MS),
    durationMs: Number(endNs - startNs) / 1e6,
    spanCount: toNumber(row.span_count),
    errorCount: toNumber(row.error_count),
    services: Array.isArray(row.services) ? row.services.map(toText) : [],
  };
}
