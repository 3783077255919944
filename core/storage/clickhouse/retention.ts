import type { Logger } from "pino";
import type { RetentionPolicy } from "../port.ts";
import { LOCAL_TABLE_SUFFIX } from "./cluster-schema.ts";
import type { ClickHouseConnection } from "./connection.ts";
import { identifier, integerLiteral } from "./sql-literals.ts";

/**
 * Retention: whole day partitions dropped by enforceRetention (run on a timer; the only way on 18.x),
 * plus a table TTL where the server has TTL (19.11+), so data still expires when no process runs the
 * timer. Every table is partitioned by `toYYYYMMDD(time)`, so a partition id is a UTC day.
 */

const DAY_MS = 86_400_000;

/** Which retention setting governs each time-partitioned table. */
export const RETENTION_BY_TABLE: Readonly<Record<string, keyof RetentionPolicy>> = {
  metrics_minute: "minuteDays",
  metrics_hour: "hourDays",
  metrics_day: "dayDays",
  samples: "samplesDays",
  spans: "spansDays",
  trace_index: "spansDays",
  probe_results: "probeResultsDays",
};

/** The retention setting of a table's data, also for a cluster node's `<table>_local`; undefined for others. */
export function retentionSettingOf(table: string): keyof RetentionPolicy | undefined {
  const logicalName = table.endsWith(LOCAL_TABLE_SUFFIX) ? table.slice(0, -LOCAL_TABLE_SUFFIX.length) : table;
  return Object.hasOwn(RETENTION_BY_TABLE, logicalName) ? RETENTION_BY_TABLE[logicalName] : undefined;
}

export function validateRetention(retention: RetentionPolicy): RetentionPolicy {
  for (const key of ["minuteDays", "hourDays", "dayDays", "samplesDays", "spansDays", "probeResultsDays"] as const) {
    const days = retention[key];
    if (typeof days !== "number" || !Number.isFinite(days) || days <= 0) throw new RangeError(`retention.${key} must be a positive number of days, got ${String(days)}`);
  }
  return retention;
}

/**
 * Sets each table's TTL to the policy; skipped where it is already set, since a changed TTL rewrites parts.
 * `tableSuffix` names the tables holding the rows: `_local` on a cluster node (Distributed tables have no TTL).
 */
export async function applyTtl(connection: ClickHouseConnection, database: string, retention: RetentionPolicy, logger: Logger, tableSuffix = ""): Promise<void> {
  const db = identifier(database);
  const tables = await connection.select<{ name: string; engine_full: string }>(
    "SELECT name, engine_full FROM system.tables WHERE database = {database:String}",
    { database },
  );
  for (const [logicalName, setting] of Object.entries(RETENTION_BY_TABLE)) {
    const table = `${logicalName}${tableSuffix}`;
    // TTL intervals are whole days; rounding up never deletes what the policy keeps.
    const days = Math.ceil(retention[setting]);
    const current = tables.find((row) => row.name === table)?.engine_full ?? "";
    // Servers print the stored TTL normalised, as `time + toIntervalDay(N)`.
    if (current.includes(`toIntervalDay(${days})`)) continue;
    await connection.command(`ALTER TABLE ${db}.${identifier(table)} MODIFY TTL time + INTERVAL ${integerLiteral(days, "UInt32")} DAY`);
    logger.info({ database, table, days }, "clickhouse retention ttl set");
  }
}

/** The UTC start of a `toYYYYMMDD` partition id, or undefined when the id is not one. */
export function partitionDayStartMs(partition: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(partition);
  if (!match) return undefined;
  const startMs = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isFinite(startMs) ? startMs : undefined;
}

/** True when the whole day is older than the retention window ending at nowMs. */
export function isPartitionExpired(partition: string, days: number, nowMs: number): boolean {
  const startMs = partitionDayStartMs(partition);
  return startMs !== undefined && startMs + DAY_MS <= nowMs - days * DAY_MS;
}

/** Drops expired day partitions; returns what it dropped as `table/partition`. */
export async function dropExpiredPartitions(
  connection: ClickHouseConnection,
  database: string,
  retention: RetentionPolicy,
  nowMs: number,
  logger: Logger,
): Promise<string[]> {
  const db = identifier(database);
  const parts = await connection.select<{ table: string; partition: string }>(
    "SELECT DISTINCT table, partition FROM system.parts WHERE database = {database:String} AND active",
    { database },
  );
  const dropped: string[] = [];
  for (const { table, partition } of parts) {
    const setting = retentionSettingOf(table);
    if (setting === undefined || !isPartitionExpired(partition, retention[setting], nowMs)) continue;
    await connection.command(`ALTER TABLE ${db}.${identifier(table)} DROP PARTITION ${integerLiteral(Number(partition), "UInt32")}`);
    dropped.push(`${table}/${partition}`);
  }
  if (dropped.length > 0) logger.info({ database, dropped }, "clickhouse retention dropped partitions");
  return dropped;
}
