import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClickHouseClient } from "@clickhouse/client";
import type { SampledRecord } from "../../../../core/model/sample.ts";
import { ClickHouseStorage } from "../../../../core/storage/clickhouse/clickhouse-storage.ts";
import { isPartitionExpired, partitionDayStartMs, validateRetention } from "../../../../core/storage/clickhouse/retention.ts";
import { useClickHouse, type RunningService } from "../../../services/index.ts";
import { capturingLogger, freshDatabaseName, minuteRow, RETENTION, rawClient, rawSelect } from "./helpers.ts";

const day = (d: number, h = 0): number => Date.UTC(2026, 10, d, h);

void describe("which day partitions are expired", () => {
  void test("a day is dropped only once all of it is older than the window", () => {
    assert.equal(partitionDayStartMs("20261121"), day(21));
    assert.equal(partitionDayStartMs("tuple()"), undefined);
    assert.equal(partitionDayStartMs("2026112"), undefined);
    const now = day(23, 12);
    assert.equal(isPartitionExpired("20261120", 2, now), true); // ends 21st 00:00, window starts 21st 12:00
    assert.equal(isPartitionExpired("20261121", 2, now), false); // half inside the window
    assert.equal(isPartitionExpired("20261121", 2, day(24)), true); // ends exactly where the window starts
    assert.equal(isPartitionExpired("all", 2, now), false);
  });

  void test("retention must be a positive number of days; fractions cut inside a day's window", () => {
    assert.throws(() => validateRetention({ ...RETENTION, samplesDays: 0 }), /retention\.samplesDays/);
    assert.throws(() => validateRetention({ ...RETENTION, hourDays: Number.NaN }), /retention\.hourDays/);
    assert.throws(() => validateRetention({ ...RETENTION, dayDays: "7" as unknown as number }), /retention\.dayDays/);
    assert.throws(() => validateRetention({ ...RETENTION, spansDays: 0 }), /retention\.spansDays/);
    assert.throws(() => validateRetention({ ...RETENTION, probeResultsDays: -1 }), /retention\.probeResultsDays/);
    assert.deepEqual(validateRetention({ ...RETENTION, samplesDays: 0.5 }), { ...RETENTION, samplesDays: 0.5 });
    assert.equal(isPartitionExpired("20261122", 0.5, day(23, 11)), false); // ends 23rd 00:00, window starts 22nd 23:00
    assert.equal(isPartitionExpired("20261122", 0.5, day(23, 12)), true);
  });
});

void describe("enforceRetention on a real server", () => {
  let service: RunningService;
  let client: ClickHouseClient;
  let storage: ClickHouseStorage;
  const database = freshDatabaseName();
  before(async () => {
    service = await useClickHouse();
    client = rawClient(service.url);
    // minute 2 days, hour 10, day 30, samples 3
    storage = new ClickHouseStorage({ url: service.url, database, retention: RETENTION, logger: capturingLogger().logger });
    await storage.start();
  });
  after(async () => {
    await storage.close();
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
    await service.stop();
  });

  void test("drops whole expired days per table relative to nowMs (and sets the TTL where the server has it)", async () => {
    const sample = (timeMs: number): SampledRecord => ({
      timeMs,
      service: "ret.default",
      instance: "",
      endpoint: "",
      detectPoint: "server",
      peerService: "",
      responseCode: 500,
      responseFlags: "",
      isError: true,
      latencyMs: 3,
      reason: "error",
      requestId: "",
      traceId: "",
      raw: "",
    });
    await storage.writeMetrics([18, 20, 21, 23].map((d) => minuteRow({ service: "ret.default", timeMs: day(d, 6), calls: d })));
    await storage.writeSamples([sample(day(19, 6)), sample(day(20, 6))]);
    await storage.enforceRetention(day(23, 12));

    const partitions = await rawSelect<{ table: string; partition: string }>(
      client,
      `SELECT DISTINCT table, partition FROM system.parts WHERE database = '${database}' AND active ORDER BY table, partition`,
    );
    const byTable = (table: string): string[] => partitions.filter((p) => p.table === table).map((p) => p.partition);
    if (storage.capabilities?.ttl) {
      const [{ engine_full = "" } = {}] = await rawSelect<{ engine_full: string }>(
        client,
        `SELECT engine_full FROM system.tables WHERE database = '${database}' AND name = 'metrics_minute'`,
      );
      assert.match(engine_full, /TTL time \+ toIntervalDay\(2\)/);
    }
    assert.deepEqual(byTable("metrics_minute"), ["20261121", "20261123"]);
    assert.deepEqual(byTable("metrics_hour"), ["20261118", "20261120", "20261121", "20261123"]);
    assert.deepEqual(byTable("metrics_day"), ["20261118", "20261120", "20261121", "20261123"]);
    assert.deepEqual(byTable("samples"), ["20261120"]);

    const base = { scope: "service", service: "ret.default", fromMs: day(1), toMs: day(24) } as const;
    const minutes = await storage.queryMetrics({ ...base, resolution: "minute", groupByTime: true });
    assert.deepEqual(minutes.map((p) => p.calls), [21, 23]);
    const days = await storage.queryMetrics({ ...base, resolution: "day", groupByTime: true });
    assert.deepEqual(days.map((p) => [p.timeMs, p.calls]), [18, 20, 21, 23].map((d) => [day(d), d]), "rollups outlive the minute rows");
    // Running again drops nothing more.
    await storage.enforceRetention(day(23, 12));
    assert.equal((await storage.queryMetrics({ ...base, resolution: "minute", groupByTime: false }))[0]?.calls, 44);
    assert.equal((await storage.querySamples({ fromMs: 0, toMs: day(24), limit: 10 })).length, 1);
  });
});
