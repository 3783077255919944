import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import { RESOLUTION_MS } from "../../model/metrics.ts";
import type { ProbeResult, ProbeStatus } from "../../model/probe.ts";
import type { ProbeResultQuery, ProbeSeriesPoint, ProbeSeriesQuery } from "../port.ts";
import { integerParam, toNumber, toText } from "./database.ts";
import { invalidRecordReason, recordJson, toNumberRecord, toTextRecord } from "./map-values.ts";
import { MAX_READ_ROWS } from "./span-reader.ts";
import { StagingTable } from "./staging-table.ts";
import { probeEqualityFilters } from "../probe-filters.ts";

const PROBE_STATUSES: ReadonlySet<ProbeStatus> = new Set(["success", "failure", "timeout", "error"]);
const TEXT_FIELDS = ["runId", "probe", "kind", "target", "service", "status", "message"] as const;

/** Why a probe result cannot be stored, or undefined when it can. */
export function invalidProbeResultReason(row: ProbeResult): string | undefined {
  for (const field of TEXT_FIELDS) {
    if (typeof row[field] !== "string") return `${field} is not a string`;
  }
  if (!PROBE_STATUSES.has(row.status)) return `status ${JSON.stringify(row.status)} is not a probe status`;
  if (!Number.isSafeInteger(row.startedMs) || row.startedMs < 0) return "startedMs is not a non-negative integer";
  if (typeof row.durationMs !== "number" || !Number.isFinite(row.durationMs) || row.durationMs < 0) return "durationMs is not a non-negative number";
  if (!Number.isInteger(row.attempt) || row.attempt < 0 || row.attempt > 2 ** 31 - 1) return "attempt is not a non-negative integer";
  return invalidRecordReason("phases", row.phases, "number") ?? invalidRecordReason("labels", row.labels, "string");
}

const STAGING_TABLE = "probe_results_staging";
/** probe_results' columns, with the two maps as JSON text that DuckDB casts (see recordJson). */
const STAGING_COLUMNS = `run_id VARCHAR, probe VARCHAR, kind VARCHAR, target VARCHAR, service VARCHAR, status VARCHAR, started_ms BIGINT,
  duration_ms DOUBLE, phases_json VARCHAR, message VARCHAR, attempt INTEGER, labels_json VARCHAR`;
const FROM_STAGING = `SELECT run_id, probe, kind, target, service, status, started_ms, duration_ms,
  CAST(CAST(phases_json AS JSON) AS MAP(VARCHAR, DOUBLE)), message, attempt, CAST(CAST(labels_json AS JSON) AS MAP(VARCHAR, VARCHAR))
  FROM ${STAGING_TABLE}`;

/**
 * Appends probe results through a staging table. The embedded store writes on the event loop, so a
 * batch's cost is a stall of every scheduled probe run: appending MAP values directly was most of it.
 */
export class ProbeResultWriter {
  private readonly staging: StagingTable;

  constructor(connection: DuckDBConnection) {
    this.staging = new StagingTable(connection, STAGING_TABLE, STAGING_COLUMNS, `INSERT INTO probe_results ${FROM_STAGING}`);
  }

  prepare(): Promise<void> {
    return this.staging.prepare();
  }

  /** The caller provides the transaction. */
  write(rows: readonly ProbeResult[]): Promise<void> {
    return this.staging.write(rows, (appender, row) => {
      appender.appendVarchar(row.runId);
      appender.appendVarchar(row.probe);
      appender.appendVarchar(row.kind);
      appender.appendVarchar(row.target);
      appender.appendVarchar(row.service);
      appender.appendVarchar(row.status);
      appender.appendBigInt(BigInt(row.startedMs));
      appender.appendDouble(row.durationMs);
      appender.appendVarchar(recordJson(row.phases));
      appender.appendVarchar(row.message);
      appender.appendInteger(row.attempt);
      appender.appendVarchar(recordJson(row.labels));
    });
  }
}

/** Shared WHERE of both probe reads: the range plus exact-match filters. */
function probeFilter(query: ProbeResultQuery | ProbeSeriesQuery): { where: string; values: DuckDBValue[] } {
  const values: DuckDBValue[] = [integerParam("fromMs", query.fromMs, Math.ceil), integerParam("toMs", query.toMs, Math.ceil)];
  const conditions = ["started_ms >= $1", "started_ms < $2"];
  for (const [column, value] of probeEqualityFilters(query)) {
    values.push(value);
    conditions.push(`${column} = $${values.length}`);
  }
  return { where: conditions.join(" AND "), values };
}

export async function queryProbeResults(connection: DuckDBConnection, query: ProbeResultQuery): Promise<ProbeResult[]> {
  const { where, values } = probeFilter(query);
  values.push(integerParam("limit", Math.min(Math.max(0, query.limit), MAX_READ_ROWS), Math.floor));
  const sql = `SELECT * FROM probe_results WHERE ${where} ORDER BY started_ms DESC, probe, target, run_id, attempt LIMIT $${values.length}`;
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJS().map(toProbeResult);
}

export async function probeSeries(connection: DuckDBConnection, query: ProbeSeriesQuery): Promise<ProbeSeriesPoint[]> {
  const bucketMs = RESOLUTION_MS[query.resolution];
  if (bucketMs === undefined) throw new RangeError(`unknown resolution ${String(query.resolution)}`);
  const { where, values } = probeFilter(query);
  values.push(BigInt(bucketMs));
  const bucket = `$${values.length}`;
  const sql = `SELECT probe, target, (started_ms // ${bucket}) * ${bucket} AS time_ms,
  count(*) AS runs, count(*) FILTER (WHERE status <> 'success') AS failures,
  sum(duration_ms) AS duration_sum_ms, max(duration_ms) AS max_duration_ms
FROM probe_results WHERE ${where}
GROUP BY probe, target, time_ms ORDER BY time_ms, probe, target LIMIT ${MAX_READ_ROWS}`;
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJS().map((row) => ({
    probe: toText(row.probe),
    target: toText(row.target),
    timeMs: toNumber(row.time_ms),
    runs: toNumber(row.runs),
    failures: toNumber(row.failures),
    durationSumMs: toNumber(row.duration_sum_ms),
    maxDurationMs: toNumber(row.max_duration_ms),
  }));
}

function toProbeResult(row: Record<string, unknown>): ProbeResult {
  return {
    runId: toText(row.run_id),
    probe: toText(row.probe),
    kind: toText(row.kind),
    target: toText(row.target),
    service: toText(row.service),
    status: toText(row.status) as ProbeStatus,
    startedMs: toNumber(row.started_ms),
    durationMs: toNumber(row.duration_ms),
    phases: toNumberRecord(row.phases),
    message: toText(row.message),
    attempt: toNumber(row.attempt),
    labels: toTextRecord(row.labels),
  };
}
