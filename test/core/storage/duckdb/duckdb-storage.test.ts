import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { MinuteMetrics } from "../../../../core/model/metrics.ts";
import { DuckDbStorage } from "../../../../core/storage/duckdb/duckdb-storage.ts";
import { applyMigrations, loadMigrations } from "../../../../core/storage/duckdb/migrations.ts";
import { StorageUnavailableError, type RetentionPolicy } from "../../../../core/storage/port.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";

const RETENTION: RetentionPolicy = { minuteDays: 2, hourDays: 10, dayDays: 30, samplesDays: 3, spansDays: 5, probeResultsDays: 6 };
const BASE_MS = Date.UTC(2024, 0, 15);
const logger = pino({ level: "silent" });

function row(overrides: Partial<MinuteMetrics> = {}): MinuteMetrics {
  return {
    scope: "service",
    service: "reviews.default",
    name: "",
    detectPoint: "",
    component: "",
    timeMs: BASE_MS,
    calls: 2,
    errors: 1,
    latencySumMs: 20,
    apdexSatisfied: 2,
    apdexTolerating: 0,
    bytesIn: 10,
    bytesOut: 20,
    histogram: { buckets: [80], counts: [2] },
    ...overrides,
  };
}

const wholeDay = { scope: "service", fromMs: BASE_MS, toMs: BASE_MS + 86_400_000, resolution: "minute", groupByTime: false } as const;

void describe("DuckDbStorage", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "meshsight-duckdb-unit-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it("names the path and the cause when the database cannot be opened", async () => {
    const blocker = join(dir, "not-a-directory");
    await writeFile(blocker, "x");
    const underFile = new DuckDbStorage({ path: join(blocker, "db.duckdb"), retention: RETENTION, logger });
    await assert.rejects(underFile.start(), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.match(error.message, /not-a-directory\/db\.duckdb/);
      assert.match(error.message, /EEXIST|ENOTDIR/);
      return true;
    });
    const directoryAsFile = new DuckDbStorage({ path: dir, retention: RETENTION, logger });
    await assert.rejects(directoryAsFile.start(), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.ok(error.message.includes(dir), error.message);
      assert.ok(error.cause instanceof Error, "the original error is kept as the cause");
      return true;
    });
    assert.equal(await directoryAsFile.ping(), false);
  });

  void it("refuses to write before start(), finishes reads under way on close(), and pings false after it", async () => {
    const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
    await assert.rejects(storage.writeMetrics([row()]), /not started/);
    await storage.start();
    assert.equal(await storage.ping(), true);
    await storage.writeMetrics([row()]);
    // A read already under way when close() is called still gets its answer.
    const reading = storage.queryMetrics(wholeDay);
    await storage.close();
    assert.equal((await reading)[0]?.calls, 2);
    assert.equal(await storage.ping(), false);
    await assert.rejects(storage.queryMetrics(wholeDay), StorageUnavailableError);
    await storage.close();
  });

  void it("rejects impossible retention settings at construction", () => {
    assert.throws(() => new DuckDbStorage({ path: ":memory:", retention: { ...RETENTION, minuteDays: 0 }, logger }), /retention\.minuteDays/);
  });

  void it("keeps every metrics row, lists included, when version 5 drops the tables' key", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const all = loadMigrations();
      assert.deepEqual(await applyMigrations(connection, all.filter((migration) => migration.version < 5)), [1, 2, 3, 4]);
      const tables = ["metrics_minute", "metrics_hour", "metrics_day"];
      for (const [index, table] of tables.entries()) {
        await connection.run(`INSERT INTO ${table} VALUES ('service', 'svc', 'svc', 'server', 'http', ${index}, 7, 1, 2.5, 3, 2, 10, 20, [4, 9], [5, 2])`);
      }
      assert.deepEqual(await applyMigrations(connection, all), [5]);
      for (const [index, table] of tables.entries()) {
        const rows = (await connection.runAndReadAll(`SELECT * FROM ${table}`)).getRowsJS();
        assert.deepEqual(rows, [["service", "svc", "svc", "server", "http", BigInt(index), 7n, 1n, 2.5, 3n, 2n, 10n, 20n, [4, 9], [5n, 2n]]]);
      }
      const keys = (await connection.runAndReadAll("SELECT count(*) FROM duckdb_constraints() WHERE table_name LIKE 'metrics_%' AND constraint_type = 'PRIMARY KEY'")).getRowsJS();
      assert.deepEqual(keys, [[0n]]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  void it("records applied migrations once and applies nothing on a current store", async () => {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      const all = loadMigrations();
      assert.ok(all.length >= 1 && all.every((migration, index) => index === 0 || migration.version > (all[index - 1]?.version ?? 0)));
      assert.deepEqual(await applyMigrations(connection), all.map((migration) => migration.version));
      assert.deepEqual(await applyMigrations(connection), []);
      const recorded = (await connection.runAndReadAll("SELECT version, name FROM schema_migrations ORDER BY version")).getRowObjectsJS();
      assert.deepEqual(recorded, all.map((migration) => ({ version: migration.version, name: migration.name })));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  void it("loses no update when many writes to one key race", async () => {
    const storage = new DuckDbStorage({ path: join(dir, "race.duckdb"), retention: RETENTION, logger });
    await storage.start();
    try {
      const writers = Array.from({ length: 25 }, (_, i) => storage.writeMetrics([row({ histogram: { buckets: [80, 100 + (i % 3)], counts: [1, 1] } })]));
      await Promise.all(writers);
      const [total] = await storage.queryMetrics(wholeDay);
      assert.equal(total?.calls, 50);
      assert.deepEqual(total?.histogram, { buckets: [80, 100, 101, 102], counts: [25, 9, 8, 8] });
    } finally {
      await storage.close();
    }
  });

  void it("tells callers to back off when too many writes wait, instead of queueing without bound", async () => {
    const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger, maxWaitingWrites: 2 });
    await storage.start();
    try {
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => storage.writeMetrics([row()])));
      const refused = results.filter((result) => result.status === "rejected");
      assert.equal(refused.length, 3);
      for (const result of refused) assert.ok(result.reason instanceof StorageUnavailableError && /busy/.test(result.reason.message));
      const [total] = await storage.queryMetrics(wholeDay);
      assert.equal(total?.calls, 4, "the accepted writes all landed");
    } finally {
      await storage.close();
    }
  });

  void it("counts and drops invalid rows while storing the valid rows of the same batch", async () => {
    const registry = new Registry();
    const rejects = new RejectCounter(registry, logger);
    const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger, rejects });
    await storage.start();
    try {
      const broken = [
        row({ calls: -1 }),
        row({ calls: 1.5 }),
        row({ latencySumMs: Number.NaN }),
        row({ histogram: { buckets: [1, 2], counts: [1] } }),
        row({ histogram: { buckets: [256], counts: [1] } }),
        row({ scope: "galaxy" as MinuteMetrics["scope"] }),
        { ...row(), histogram: undefined } as unknown as MinuteMetrics,
      ];
      await storage.writeMetrics([row(), ...broken]);
      const [total] = await storage.queryMetrics(wholeDay);
      assert.equal(total?.calls, 2);
      const metric = await registry.getSingleMetricAsString("meshsight_rejected_total");
      assert.match(metric, /source="storage\.duckdb",reason="invalid_metric_row"\} 7/);
    } finally {
      await storage.close();
    }
  });

  void it("stores a 10k-row batch with its rollups", async (t) => {
    const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
    await storage.start();
    try {
      const rows = Array.from({ length: 10_000 }, (_, i) =>
        row({ scope: "endpoint", service: `svc-${i % 50}.default`, name: `GET:/e${i % 400}`, timeMs: BASE_MS + (i % 90) * 60_000, histogram: { buckets: [i % 200, 201 + (i % 50)], counts: [1, 1] } }),
      );
      const started = process.cpuUsage();
      await storage.writeMetrics(rows);
      const used = process.cpuUsage(started);
      // A figure for the reader, not an assertion: timings on shared machines are noise.
      t.diagnostic(`10k-row batch: ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`);
      for (const resolution of ["minute", "hour", "day"] as const) {
        const found = await storage.queryMetrics({ ...wholeDay, scope: "endpoint", resolution });
        assert.equal(found.reduce((sum, aggregate) => sum + aggregate.calls, 0), 20_000, resolution);
      }
    } finally {
      await storage.close();
    }
  });
});
