import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from "@clickhouse/client";
import { pino, type Logger } from "pino";
import type { MinuteMetrics } from "../../../../core/model/metrics.ts";
import { ClickHouseStorage } from "../../../../core/storage/clickhouse/clickhouse-storage.ts";
import type { RetentionPolicy } from "../../../../core/storage/port.ts";

/** A database name no other test uses, so files can share one server. */
export function freshDatabaseName(prefix = "ms_test"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** A logger whose JSON lines tests can inspect. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

export const RETENTION: RetentionPolicy = { minuteDays: 2, hourDays: 10, dayDays: 30, samplesDays: 3, spansDays: 5, probeResultsDays: 6 };

/** An adapter on a database of its own (not started), and the cleanup that drops that database. */
export function clickHouseOnFreshDatabase(url: string, prefix: string, retention: RetentionPolicy, logger: Logger): { storage: ClickHouseStorage; cleanup: () => Promise<void> } {
  const database = freshDatabaseName(prefix);
  const cleanup = async (): Promise<void> => {
    const admin = rawClient(url);
    try {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    } finally {
      await admin.close();
    }
  };
  return { storage: new ClickHouseStorage({ url, database, retention, logger }), cleanup };
}

/** A raw client for checks the adapter's API does not offer (OPTIMIZE, system tables). */
export function rawClient(url: string): ClickHouseClient {
  return createClient({ url, log: { level: ClickHouseLogLevel.OFF } });
}

export async function rawSelect<Row>(client: ClickHouseClient, query: string): Promise<Row[]> {
  const result = await client.query({ query, format: "JSONEachRow", clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  return result.json<Row>();
}

export function minuteRow(overrides: Partial<MinuteMetrics> = {}): MinuteMetrics {
  return {
    scope: "service",
    service: "reviews.default",
    name: "",
    detectPoint: "",
    component: "",
    timeMs: Date.UTC(2026, 10, 23, 10, 0),
    calls: 10,
    errors: 1,
    latencySumMs: 250,
    apdexSatisfied: 9,
    apdexTolerating: 1,
    bytesIn: 1000,
    bytesOut: 2000,
    histogram: { buckets: [100, 120], counts: [7, 3] },
    ...overrides,
  };
}
