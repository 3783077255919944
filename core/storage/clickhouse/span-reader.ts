import type { Span, SpanKind } from "../../model/span.ts";
import type { TraceQuery, TraceSummary } from "../port.ts";
import type { ClickHouseConnection } from "./connection.ts";
import { MAX_READ_ROWS, msRange, rowLimit } from "./reader.ts";
import { identifier, integerLiteral } from "./sql-literals.ts";
import type { SpanRow as InsertedSpanRow } from "./span-rows.ts";

/**
 * Trace reads. Merges are eventual, so a span written twice may still be stored twice: every read
 * de-duplicates by (trace_id, span_id) — LIMIT 1 BY for spans, uniqExact for counts (min and max do not
 * care). Trace-wide reads first look the trace up in trace_index, so only its days are read.
 */

const NS_PER_MS = 1_000_000n;
const SPAN_COLUMNS = `toString(start_time_ns) AS start_ns_text, duration_ns, trace_id, span_id, parent_span_id, name, kind,
  service, instance, endpoint, peer_service, is_error, status_message, attr_keys, attr_values, resource_attr_keys, resource_attr_values`;
/** The earliest span without a parent is the root; the earliest span stands in when the root is missing. */
const ROOT_ORDER = "tuple(parent_span_id != '', start_time_ns, span_id)";

/** Spans as read back: the insert row with its start time selected as text (`start_ns_text`), without the partition `time`. */
type SpanRow = Omit<InsertedSpanRow, "time" | "start_time_ns"> & { start_ns_text: string };

interface SummaryRow {
  trace_id: string;
  start_ns_text: string;
  end_ns_text: string;
  span_count: number;
  error_count: number;
  services: string[];
  root_service: string;
  root_name: string;
}

type Params = Record<string, string | number>;

export class ClickHouseSpanReader {
  private readonly db: string;

  constructor(
    private readonly connection: ClickHouseConnection,
    database: string,
  ) {
    this.db = identifier(database);
  }

  /** `time` bounds of the traces `traceIds` (an SQL set) names, from trace_index: the days to read. */
  private traceDays(traceIds: string): string {
    return `time >= (SELECT min(time) FROM ${this.db}.trace_index WHERE trace_id IN ${traceIds})
      AND time <= (SELECT max(end_time) FROM ${this.db}.trace_index WHERE trace_id IN ${traceIds})`;
  }

  async getTrace(traceId: string): Promise<Span[]> {
    if (typeof traceId !== "string") throw new TypeError("traceId must be a string");
    const rows = await this.connection.select<SpanRow>(
      `SELECT ${SPAN_COLUMNS} FROM ${this.db}.spans
       WHERE trace_id = {traceId:String} AND ${this.traceDays("({traceId:String})")}
       ORDER BY start_time_ns, span_id LIMIT 1 BY trace_id, span_id LIMIT ${MAX_READ_ROWS}`,
      { traceId },
    );
    return rows.map(toSpan);
  }

  async searchTraces(query: TraceQuery): Promise<TraceSummary[]> {
    const range = msRange(query.fromMs, query.toMs);
    const limit = rowLimit(Math.min(Math.max(0, query.limit), MAX_READ_ROWS));
    if (!range || limit === 0) return [];
    const { where, params } = spanFilter(query, range);
    const matched = `(SELECT trace_id FROM ${this.db}.spans WHERE ${where})`;
    // The days the matching traces cover, asked first and passed on as constants: ClickHouse runs every
    // subquery occurrence on its own, so bounds taken inline as scalar subqueries ran the span filter three
    // times per search (twice counting the IN below). Nothing matching costs one query instead of a summary.
    const [days] = await this.connection.select<{ first_sec: number; last_sec: number; traces: number | string }>(
      `SELECT toUInt32(min(time)) AS first_sec, toUInt32(max(end_time)) AS last_sec, count() AS traces
       FROM ${this.db}.trace_index WHERE trace_id IN ${matched}`,
      params,
    );
    if (days === undefined || Number(days.traces) === 0) return [];
    // Matching picks traces by any one span; the summary then covers every span of those traces.
    const rows = await this.connection.select<SummaryRow>(
      `SELECT trace_id, min(start_time_ns) AS start_ns, toString(start_ns) AS start_ns_text,
         toString(max(start_time_ns + duration_ns)) AS end_ns_text,
         uniqExact(span_id) AS span_count, uniqExactIf(span_id, is_error = 1) AS error_count,
         arraySort(groupUniqArray(service)) AS services,
         argMin(service, ${ROOT_ORDER}) AS root_service, argMin(name, ${ROOT_ORDER}) AS root_name
       FROM ${this.db}.spans
       WHERE trace_id IN ${matched} AND time >= toDateTime({firstSec:UInt32}) AND time <= toDateTime({lastSec:UInt32})
       GROUP BY trace_id ORDER BY start_ns DESC, trace_id LIMIT ${integerLiteral(limit, "UInt32")}`,
      { ...params, firstSec: Number(days.first_sec), lastSec: Number(days.last_sec) },
    );
    return rows.map(toSummary);
  }

  async listSpanServices(fromMs: number, toMs: number): Promise<string[]> {
    const range = msRange(fromMs, toMs);
    if (!range) return [];
    const { where, params } = spanFilter({}, range);
    const rows = await this.connection.select<{ service: string }>(
      `SELECT DISTINCT service FROM ${this.db}.spans WHERE ${where} ORDER BY service LIMIT ${MAX_READ_ROWS}`,
      params,
    );
    return rows.map((row) => row.service);
  }

  async listSpanNames(service: string, fromMs: number, toMs: number): Promise<string[]> {
    const range = msRange(fromMs, toMs);
    if (!range) return [];
    const { where, params } = spanFilter({ service }, range);
    // Filtered on the column: the key starts with (service, name), so this reads one service's granules.
    const rows = await this.connection.select<{ name: string }>(
      `SELECT DISTINCT name FROM ${this.db}.spans WHERE ${where} ORDER BY name LIMIT ${MAX_READ_ROWS}`,
      params,
    );
    return rows.map((row) => row.name);
  }
}

type SpanFilter = Pick<TraceQuery, "service" | "name" | "minDurationMs" | "maxDurationMs" | "onlyErrors" | "attributes">;

/** WHERE over spans: `time` (seconds) prunes partitions and granules, the ms of start_time_ns makes bounds exact. */
function spanFilter(filter: SpanFilter, range: { from: number; to: number }): { where: string; params: Params } {
  const conditions = [
    "time >= toDateTime({fromSec:UInt32})",
    "time < toDateTime({toSec:UInt32})",
    // Whole ms compare exactly with a half-open ms range; ns bounds would not fit a safe-integer parameter.
    "intDiv(start_time_ns, 1000000) >= {fromMs:UInt64}",
    "intDiv(start_time_ns, 1000000) < {toMs:UInt64}",
  ];
  const params: Params = { fromSec: Math.floor(range.from / 1000), toSec: Math.ceil(range.to / 1000), fromMs: range.from, toMs: range.to };
  if (filter.service !== undefined) {
    conditions.push("service = {service:String}");
    params.service = filter.service;
  }
  if (filter.name !== undefined) {
    conditions.push("(name = {name:String} OR endpoint = {name:String})");
    params.name = filter.name;
  }
  if (filter.minDurationMs !== undefined) {
    conditions.push("duration_ns >= {minDurationNs:UInt64}");
    params.minDurationNs = durationNs("minDurationMs", filter.minDurationMs);
  }
  if (filter.maxDurationMs !== undefined) {
    conditions.push("duration_ns <= {maxDurationNs:UInt64}");
    params.maxDurationNs = durationNs("maxDurationMs", filter.maxDurationMs);
  }
  if (filter.onlyErrors === true) conditions.push("is_error = 1");
  Object.entries(filter.attributes ?? {}).forEach(([key, value], index) => {
    conditions.push(`arrayExists((k, v) -> k = {attrKey${index}:String} AND v = {attrValue${index}:String}, attr_keys, attr_values)`);
    params[`attrKey${index}`] = key;
    params[`attrValue${index}`] = value;
  });
  return { where: conditions.join(" AND "), params };
}

/** Rounded to whole nanoseconds (1.5 ms is exactly 1 500 000 ns) and clamped into UInt64's safe range. */
function durationNs(what: string, ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`${what} must be a finite number, got ${ms}`);
  return Math.min(Math.max(Math.round(ms * 1e6), 0), Number.MAX_SAFE_INTEGER);
}

function record(keys: readonly string[], values: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  keys.forEach((key, index) => {
    result[key] = values[index] ?? "";
  });
  return result;
}

function toSpan(row: SpanRow): Span {
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id,
    name: row.name,
    kind: row.kind as SpanKind,
    startTimeUnixNano: BigInt(row.start_ns_text),
    durationNs: Number(row.duration_ns),
    service: row.service,
    instance: row.instance,
    endpoint: row.endpoint,
    peerService: row.peer_service,
    isError: Number(row.is_error) === 1,
    statusMessage: row.status_message,
    attributes: record(row.attr_keys, row.attr_values),
    resourceAttributes: record(row.resource_attr_keys, row.resource_attr_values),
  };
}

function toSummary(row: SummaryRow): TraceSummary {
  const startNs = BigInt(row.start_ns_text);
  const endNs = BigInt(row.end_ns_text);
  return {
    traceId: row.trace_id,
    rootService: row.root_service,
    rootName: row.root_name,
    startTimeMs: Number(startNs / NS_PER_MS),
    durationMs: Number(endNs - startNs) / 1e6,
    spanCount: Number(row.span_count),
    errorCount: Number(row.error_count),
    services: row.services,
  };
}
