import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { MinuteMetrics } from "../../../../core/model/metrics.ts";
import { DuckDbStorage } from "../../../../core/storage/duckdb/duckdb-storage.ts";
import { openDatabase } from "../../../../core/storage/duckdb/database.ts";
import { trimMemory } from "../../../../core/storage/duckdb/memory-trim.ts";
import type { RetentionPolicy } from "../../../../core/storage/port.ts";

const RETENTION: RetentionPolicy = { minuteDays: 2, hourDays: 10, dayDays: 30, samplesDays: 3, spansDays: 5, probeResultsDays: 6 };
const BASE_MS = Date.UTC(2024, 0, 15);
const SERVICES = 2_000;
const allServices = { scope: "service", fromMs: BASE_MS, toMs: BASE_MS + 3_600_000, resolution: "minute", groupByTime: false } as const;

function serviceRow(index: number, calls: number): MinuteMetrics {
  return {
    scope: "service",
    service: `svc-${index}.flood`,
    name: "",
    detectPoint: "",
    component: "",
    timeMs: BASE_MS,
    calls,
    errors: 0,
    latencySumMs: 5 * calls,
    apdexSatisfied: calls,
    apdexTolerating: 0,
    bytesIn: 0,
    bytesOut: 0,
    histogram: { buckets: [40], counts: [calls] },
  };
}

void describe("DuckDbStorage.trimMemory", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "meshsight-duckdb-trim-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it("evicts DuckDB's buffer pool and sets the memory limit back", async () => {
    const instance = await openDatabase(join(dir, "evict.duckdb"), 256);
    const connection = await instance.connect();
    const value = async (sql: string): Promise<unknown> => (await connection.runAndReadAll(sql)).getRowsJS()[0]?.[0];
    const bufferBytes = async (): Promise<number> => Number(await value("SELECT sum(memory_usage_bytes) FROM duckdb_memory()"));
    try {
      await connection.run("CREATE TABLE wide AS SELECT i, md5(i::VARCHAR) AS name FROM range(500000) AS t(i)");
      await connection.run("CHECKPOINT");
      assert.equal(await value("SELECT sum(i) FROM wide WHERE name <> ''"), 124_999_750_000n);
      const cached = await bufferBytes();
      assert.ok(cached > 4 * 1_048_576, `the table's blocks are cached: ${cached} bytes`);
      await trimMemory(connection, { evictBufferPool: true, memoryLimit: "256MiB" });
      const trimmed = await bufferBytes();
      assert.ok(trimmed <= 1_048_576, `evicted to the trim's 1 MiB limit: ${trimmed} bytes`);
      assert.equal(await value("SELECT current_setting('memory_limit')"), "256.0 MiB");
      assert.equal(await value("SELECT sum(i) FROM wide WHERE name <> ''"), 124_999_750_000n, "read back from the file");
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  void it("gives memory back and leaves a database file serving exact counts, to reads during the trim and writes after it", async () => {
    const messages: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void messages.push((JSON.parse(line) as { msg: string }).msg) });
    const storage = new DuckDbStorage({ path: join(dir, "trim.duckdb"), retention: RETENTION, logger, memoryLimitMiB: 256 });
    await storage.start();
    try {
      await storage.writeMetrics(Array.from({ length: SERVICES }, (_, index) => serviceRow(index, 2)));
      const readBefore = storage.queryMetrics(allServices);
      const trimmed = storage.trimMemory();
      const readDuring = storage.queryMetrics(allServices);
      await trimmed;
      assert.ok(messages.includes("DuckDB memory trimmed"), messages.join(", "));
      for (const read of [await readBefore, await readDuring]) {
        assert.equal(read.length, SERVICES);
        assert.equal(read.reduce((sum, aggregate) => sum + aggregate.calls, 0), 2 * SERVICES);
      }
      // Upserts read the evicted rows back, and a batch this size needs far more than the trim's 1 MiB limit.
      await storage.writeMetrics(Array.from({ length: SERVICES }, (_, index) => serviceRow(index, 3)));
      const afterWrite = await storage.queryMetrics(allServices);
      assert.equal(afterWrite.length, SERVICES);
      assert.equal(afterWrite.find((aggregate) => aggregate.service === "svc-1999.flood")?.calls, 5);
      assert.equal(afterWrite.reduce((sum, aggregate) => sum + aggregate.calls, 0), 5 * SERVICES);
      const [day] = await storage.queryMetrics({ ...allServices, resolution: "day", toMs: BASE_MS + 86_400_000, service: "svc-7.flood" });
      assert.equal(day?.calls, 5, "the rollups were read back and added to as well");
    } finally {
      await storage.close();
    }
  });

  void it("trims an in-memory database's allocator only, keeping its tables", async () => {
    const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger: pino({ level: "silent" }) });
    await storage.start();
    try {
      await storage.writeMetrics(Array.from({ length: SERVICES }, (_, index) => serviceRow(index, 2)));
      await storage.trimMemory();
      await storage.writeMetrics([serviceRow(0, 1)]);
      const read = await storage.queryMetrics(allServices);
      assert.equal(read.reduce((sum, aggregate) => sum + aggregate.calls, 0), 2 * SERVICES + 1);
    } finally {
      await storage.close();
    }
  });
});
