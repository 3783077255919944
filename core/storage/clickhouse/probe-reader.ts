import { RESOLUTION_MS } from "../../model/metrics.ts";
import type { ProbeResult, ProbeStatus } from "../../model/probe.ts";
import type { ProbeResultQuery, ProbeSeriesPoint, ProbeSeriesQuery } from "../port.ts";
import { probeEqualityFilters } from "../probe-filters.ts";
import type { ClickHouseConnection } from "./connection.ts";
import { MAX_READ_ROWS, msRange, rowLimit } from "./reader.ts";
import type { ProbeResultRow } from "./span-rows.ts";
import { identifier, integerLiteral } from "./sql-literals.ts";

/** Probe results as read back: the insert row without its partition `time` column. */
type StoredProbeResult = Omit<ProbeResultRow, "time">;

interface SeriesRow {
  probe: string;
  target: string;
  time_ms: number;
  runs: number;
  failures: number;
  duration_sum_ms: number;
  max_duration_ms: number;
}

type Params = Record<string, string | number>;

export class ClickHouseProbeReader {
  private readonly db: string;

  constructor(
    private readonly connection: ClickHouseConnection,
    database: string,
  ) {
    this.db = identifier(database);
  }

  async queryProbeResults(query: ProbeResultQuery): Promise<ProbeResult[]> {
    const range = msRange(query.fromMs, query.toMs);
    const limit = rowLimit(Math.min(Math.max(0, query.limit), MAX_READ_ROWS));
    if (!range || limit === 0) return [];
    const { where, params } = probeFilter(query, range);
    const rows = await this.connection.select<StoredProbeResult>(
      `SELECT started_ms, run_id, probe, kind, target, service, status, duration_ms, phase_names, phase_ms, message, attempt, label_keys, label_values
       FROM ${this.db}.probe_results WHERE ${where}
       ORDER BY started_ms DESC, probe, target, run_id, attempt LIMIT ${integerLiteral(limit, "UInt32")}`,
      params,
    );
    return rows.map(toProbeResult);
  }

  async probeSeries(query: ProbeSeriesQuery): Promise<ProbeSeriesPoint[]> {
    const bucketMs = RESOLUTION_MS[query.resolution];
    if (bucketMs === undefined) throw new RangeError(`unknown resolution ${String(query.resolution)}`);
    const range = msRange(query.fromMs, query.toMs);
    if (!range) return [];
    const { where, params } = probeFilter(query, range);
    const bucket = integerLiteral(bucketMs, "UInt64");
    const rows = await this.connection.select<SeriesRow>(
      `SELECT probe, target, intDiv(started_ms, ${bucket}) * ${bucket} AS time_ms,
         count() AS runs, countIf(status != 'success') AS failures,
         sum(duration_ms) AS duration_sum_ms, max(duration_ms) AS max_duration_ms
       FROM ${this.db}.probe_results WHERE ${where}
       GROUP BY probe, target, time_ms ORDER BY time_ms, probe, target LIMIT ${MAX_READ_ROWS}`,
      params,
    );
    return rows.map((row) => ({
      probe: row.probe,
      target: row.target,
      timeMs: Number(row.time_ms),
      runs: Number(row.runs),
      failures: Number(row.failures),
      durationSumMs: Number(row.duration_sum_ms),
      maxDurationMs: Number(row.max_duration_ms),
    }));
  }
}

/** The range plus exact-match filters; `time` (seconds) prunes partitions, started_ms makes bounds exact. */
function probeFilter(query: ProbeResultQuery | ProbeSeriesQuery, range: { from: number; to: number }): { where: string; params: Params } {
  const conditions = [
    "time >= toDateTime({fromSec:UInt32})",
    "time < toDateTime({toSec:UInt32})",
    "started_ms >= {fromMs:UInt64}",
    "started_ms < {toMs:UInt64}",
  ];
  const params: Params = { fromSec: Math.floor(range.from / 1000), toSec: Math.ceil(range.to / 1000), fromMs: range.from, toMs: range.to };
  for (const [column, value] of probeEqualityFilters(query)) {
    conditions.push(`${column} = {${column}:String}`);
    params[column] = value;
  }
  return { where: conditions.join(" AND "), params };
}

function pairs<V>(keys: readonly string[], values: readonly V[], missing: V): Record<string, V> {
  const result: Record<string, V> = {};
  keys.forEach((key, index) => {
    result[key] = values[index] ?? missing;
  });
  return result;
}

function toProbeResult(row: StoredProbeResult): ProbeResult {
  return {
    runId: row.run_id,
    probe: row.probe,
    kind: row.kind,
    target: row.target,
    service: row.service,
    status: row.status as ProbeStatus,
    startedMs: Number(row.started_ms),
    durationMs: Number(row.duration_ms),
    phases: pairs(row.phase_names, row.phase_ms.map(Number), 0),
    message: row.message,
    attempt: Number(row.attempt),
    labels: pairs(row.label_keys, row.label_values, ""),
  };
}
