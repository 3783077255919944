import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import type { DetectPoint } from "../../model/dimensions.ts";
import type { SampledRecord, SampleReason } from "../../model/sample.ts";
import type { SampleQuery } from "../port.ts";
import { integerParam, toNumber, toText } from "./database.ts";

const TEXT_FIELDS = ["service", "instance", "endpoint", "detectPoint", "peerService", "responseFlags", "reason", "requestId", "traceId", "raw"] as const;

/** Why a sample cannot be stored, or undefined when it can. */
export function invalidSampleReason(row: SampledRecord): string | undefined {
  for (const field of TEXT_FIELDS) {
    if (typeof row[field] !== "string") return `${field} is not a string`;
  }
  if (typeof row.isError !== "boolean") return "isError is not a boolean";
  if (!Number.isSafeInteger(row.timeMs) || row.timeMs < 0) return "timeMs is not a non-negative integer";
  if (!Number.isInteger(row.responseCode) || row.responseCode < 0 || row.responseCode > 2 ** 31 - 1) return "responseCode is not a non-negative integer";
  if (!Number.isFinite(row.latencyMs)) return "latencyMs is not a finite number";
  return undefined;
}

/** Appends samples; the caller provides the transaction. */
export async function appendSamples(connection: DuckDBConnection, rows: readonly SampledRecord[]): Promise<void> {
  const appender = await connection.createAppender("samples");
  let isComplete = false;
  try {
    for (const row of rows) {
      appender.appendBigInt(BigInt(row.timeMs));
      appender.appendVarchar(row.service);
      appender.appendVarchar(row.instance);
      appender.appendVarchar(row.endpoint);
      appender.appendVarchar(row.detectPoint);
      appender.appendVarchar(row.peerService);
      appender.appendInteger(row.responseCode);
      appender.appendVarchar(row.responseFlags);
      appender.appendBoolean(row.isError);
      appender.appendDouble(row.latencyMs);
      appender.appendVarchar(row.reason);
      appender.appendVarchar(row.requestId);
      appender.appendVarchar(row.traceId);
      appender.appendVarchar(row.raw);
      appender.endRow();
    }
    isComplete = true;
  } finally {
    if (!isComplete) appender.clear();
    appender.closeSync();
  }
}

export async function querySamples(connection: DuckDBConnection, query: SampleQuery): Promise<SampledRecord[]> {
  const values: DuckDBValue[] = [integerParam("fromMs", query.fromMs, Math.floor), integerParam("toMs", query.toMs, Math.ceil)];
  const conditions = ["time_ms >= $1", "time_ms < $2"];
  const optional: [string, string | undefined][] = [
    ["service", query.service],
    ["endpoint", query.endpoint],
    ["trace_id", query.traceId],
  ];
  for (const [column, value] of optional) {
    if (value === undefined) continue;
    values.push(value);
    conditions.push(`${column} = $${values.length}`);
  }
  if (query.onlyErrors === true) conditions.push("is_error");
  values.push(integerParam("limit", Math.max(0, query.limit), Math.floor));
  const sql = `SELECT * FROM samples WHERE ${conditions.join(" AND ")} ORDER BY time_ms DESC, request_id LIMIT $${values.length}`;
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJS().map(toSample);
}

function toSample(row: Record<string, unknown>): SampledRecord {
  return {
    timeMs: toNumber(row.time_ms),
    service: toText(row.service),
    instance: toText(row.instance),
    endpoint: toText(row.endpoint),
    detectPoint: toText(row.detect_point) as DetectPoint,
    peerService: toText(row.peer_service),
    responseCode: toNumber(row.response_code),
    responseFlags: toText(row.response_flags),
    isError: row.is_error === true,
    latencyMs: toNumber(row.latency_ms),
    reason: toText(row.reason) as SampleReason,
    requestId: toText(row.request_id),
    traceId: toText(row.trace_id),
    raw: toText(row.raw),
  };
}
