import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { SHARDING_KEYS } from "../../core/storage/clickhouse/cluster-schema.ts";
import type { MinuteMetrics } from "../../core/model/metrics.ts";
import type { ProbeResult } from "../../core/model/probe.ts";
import type { MetricsQuery, ProbeSeriesPoint } from "../../core/storage/port.ts";
import { assertAggregatesEqual, BASE_MS, DAY, expectedMetrics, histogramOf, HOUR, metricRow, MINUTE, sample } from "../conformance/storage/fixtures.ts";
import { expectedSeries, expectedTrace, nsAt, probeResult, span } from "../conformance/storage/trace-fixtures.ts";
import { freshDatabaseName, rawClient, rawSelect } from "../core/storage/clickhouse/helpers.ts";
import { startReplicatedClickHouse, type RunningReplicatedCluster } from "../services/replicated-clickhouse.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, waitForHttpPort, type CliRun } from "../cli/cli-process.ts";
import { startClickHouseRelay } from "../support/clickhouse-relay.ts";
import { waitFor, waitUntilPasses } from "../support/wait-for.ts";
import { KEEP_EVERYTHING } from "../support/test-storages.ts";

/**
 * meshsight on replicated ClickHouse, as docs/deploy-clickhouse.md deploys it: a real ZooKeeper and one shard
 * of two real replicas on loopback, meshsight in cluster + replicated mode. Each adapter connects to one
 * replica, as a meshsight process next to each node would.
 */

const logger = pino({ level: process.env.E2E_LOG_LEVEL ?? "silent" });

/** Minute rows of three services over two hours, each with a histogram of its own latencies. */
function minuteRows(service: (i: number) => string, startMs: number, count: number): MinuteMetrics[] {
  return Array.from({ length: count }, (_, i) => {
    const latencies = Array.from({ length: 1 + (i % 9) }, (_, j) => 1 + ((i * 37 + j * 101) % 900));
    return metricRow({
      timeMs: startMs + i * 3 * MINUTE,
      service: service(i),
      calls: latencies.length,
      errors: i % 3 === 0 ? 1 : 0,
      latencySumMs: latencies.reduce((sum, value) => sum + value, 0),
      apdexSatisfied: latencies.filter((value) => value <= 100).length,
      apdexTolerating: latencies.filter((value) => value > 100 && value <= 400).length,
      bytesIn: 100 * latencies.length,
      bytesOut: 300 * latencies.length,
      histogram: histogramOf(latencies),
    });
  });
}

/** Every resolution, per entity and as series, over [fromMs, fromMs + 1 day). */
function metricQueries(fromMs: number): MetricsQuery[] {
  const range = { scope: "service", fromMs, toMs: fromMs + DAY } as const;
  return (["minute", "hour", "day"] as const).flatMap((resolution) => [
    { ...range, resolution, groupByTime: true },
    { ...range, resolution, groupByTime: false },
  ]);
}

/** How long a write may keep failing before the test fails: the flusher's first retries fall within it. */
const RETRY_WINDOW_MS = 10_000;

/** Writes as the flusher does: a failed batch is retried as it was, until it succeeds or the window has passed. */
async function writeRetrying(write: () => Promise<void>, windowMs = RETRY_WINDOW_MS): Promise<number> {
  const deadline = Date.now() + windowMs;
  for (let failures = 0; ; failures++) {
    try {
      await write();
      return failures;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`a write kept failing for longer than the ${windowMs} ms retry window`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

interface ReadyzReplication {
  replicas: number;
  activeReplicas: number;
  readonlyTables: number;
  problems: string[];
}

const roundedSeries = (points: readonly ProbeSeriesPoint[]): ProbeSeriesPoint[] =>
  points.map((point) => ({ ...point, durationSumMs: Math.round(point.durationSumMs * 1000) / 1000 }));

void describe("meshsight on a shard of two ClickHouse replicas over ZooKeeper", () => {
  let cluster: RunningReplicatedCluster;
  const database = freshDatabaseName("ms_replicated");
  const storages: ClickHouseStorage[] = [];

  const openStorage = (url: string): ClickHouseStorage => {
    const storage = new ClickHouseStorage({ url, database, retention: KEEP_EVERYTHING, logger, cluster: { name: cluster.name, replicated: true } });
    storages.push(storage);
    return storage;
  };

  /** Rows of a query run on one replica's own tables. */
  const selectOn = async <Row>(url: string, sql: string): Promise<Row[]> => {
    const client = rawClient(url);
    try {
      return await rawSelect<Row>(client, sql);
    } finally {
      await client.close();
    }
  };

  /** Waits until `replica` has fetched every part its peers have, so its own tables can be compared exactly. */
  const syncReplica = async (url: string): Promise<void> => {
    const client = rawClient(url);
    try {
      for (const table of Object.keys(SHARDING_KEYS)) await client.command({ query: `SYSTEM SYNC REPLICA ${database}.${table}_local` });
    } finally {
      await client.close();
    }
  };

  const countOn = async (url: string, table: string, where: string): Promise<number> =>
    Number((await selectOn<{ value: number }>(url, `SELECT count() AS value FROM ${database}.${table}_local WHERE ${where}`))[0]?.value);

  before(async () => {
    cluster = await startReplicatedClickHouse("meshsight_replicated");
    // Both at once, as two meshsight processes deployed together start: the schema must converge, not fail.
    const [first, second] = cluster.replicas.map((replica) => openStorage(replica.url));
    await Promise.all([first!.start(), second!.start()]);
  });

  after(async () => {
    for (const storage of storages) await storage.close();
    await cluster?.stop();
  });

  void it("creates every table on both replicas through ON CLUSTER DDL, local tables on Replicated engines", async () => {
    const localTables = Object.keys(SHARDING_KEYS).map((table) => `${table}_local`);
    for (const replica of cluster.replicas) {
      const tables = await selectOn<{ name: string; engine: string }>(
        replica.url,
        `SELECT name, engine FROM system.tables WHERE database = '${database}' AND name LIKE '%_local' ORDER BY name`,
      );
      assert.deepEqual(
        tables.map((table) => table.name),
        [...localTables].sort(),
        `local tables on ${replica.replica}`,
      );
      for (const table of tables) assert.match(table.engine, /^Replicated\w*MergeTree$/, `${table.name} on ${replica.replica}`);
      const replication = await selectOn<{ table: string; total_replicas: number; active_replicas: number }>(
        replica.url,
        `SELECT table, total_replicas, active_replicas FROM system.replicas WHERE database = '${database}' ORDER BY table`,
      );
      assert.deepEqual(
        replication,
        [...localTables].sort().map((table) => ({ table, total_replicas: 2, active_replicas: 2 })),
        `replication seen from ${replica.replica}`,
      );
    }
    // Every CREATE went through the distributed DDL queue, the queue ON CLUSTER puts statements in.
    const queued = await selectOn<{ value: string }>(cluster.replicas[0]!.url, "SELECT value FROM system.zookeeper WHERE path = '/clickhouse/task_queue/ddl'");
    for (const table of Object.keys(SHARDING_KEYS)) {
      for (const created of [`${table}_local`, table]) {
        const pattern = new RegExp(`CREATE TABLE IF NOT EXISTS ${database}\\.${created} ON CLUSTER ${cluster.name}\\b`);
        assert.ok(
          queued.some((entry) => pattern.test(entry.value)),
          `${created} created ON CLUSTER`,
        );
      }
    }
  });

  void it("answers through one replica exactly what was written through the other: minutes, rollups, samples, spans, probe results", async () => {
    const [reader, writer] = storages;
    const fromMs = BASE_MS;
    const metrics = minuteRows((i) => ["reviews.default", "ratings.default", "details.default"][i % 3]!, fromMs + 2 * MINUTE, 40);
    // Two writes whose hour and day rollup blocks are identical: replicated rollup tables must keep both.
    const twin = metricRow({ timeMs: fromMs + 5 * HOUR, service: "twin.default", histogram: histogramOf([5, 50, 500]) });
    const samples = Array.from({ length: 30 }, (_, i) => sample({ timeMs: fromMs + i * 7_000, isError: i % 4 === 0, responseCode: i % 4 === 0 ? 503 : 200 }));
    const spans = ["trace-a", "trace-b"].flatMap((traceId, t) => [
      span({ traceId, spanId: `${traceId}-root`, startTimeUnixNano: nsAt(t * MINUTE), service: "productpage.default" }),
      span({ traceId, spanId: `${traceId}-child`, parentSpanId: `${traceId}-root`, startTimeUnixNano: nsAt(t * MINUTE + 3), isError: t === 1 }),
    ]);
    const probes: ProbeResult[] = Array.from({ length: 24 }, (_, i) =>
      probeResult({ startedMs: fromMs + i * 20_000, runId: `run-${i}`, target: i % 2 === 0 ? "10.0.0.1:9080" : "10.0.0.2:9080", status: i % 5 === 0 ? "failure" : "success", durationMs: 1 + i }),
    );
    for (let start = 0; start < metrics.length; start += 10) await writer!.writeMetrics(metrics.slice(start, start + 10));
    await writer!.writeMetrics([twin]);
    await writer!.writeMetrics([{ ...twin, timeMs: twin.timeMs + MINUTE }]);
    await writer!.writeSamples(samples);
    await writer!.writeSpans(spans);
    await writer!.writeProbeResults(probes);

    const readerUrl = cluster.replicas[0]!.url;
    await syncReplica(readerUrl);
    // The reading replica holds the rows itself, so the answers below are its own copy, not read from the writer.
    assert.equal(await countOn(readerUrl, "samples", "1"), samples.length);
    assert.equal(await countOn(readerUrl, "probe_results", "1"), probes.length);

    const written = [...metrics, twin, { ...twin, timeMs: twin.timeMs + MINUTE }];
    for (const query of metricQueries(fromMs)) assertAggregatesEqual(await reader!.queryMetrics(query), expectedMetrics(written, query), JSON.stringify(query));
    assert.deepEqual(
      await reader!.querySamples({ fromMs, toMs: fromMs + DAY, limit: 1000 }),
      [...samples].sort((a, b) => b.timeMs - a.timeMs),
    );
    for (const traceId of ["trace-a", "trace-b"]) assert.deepEqual(await reader!.getTrace(traceId), expectedTrace(spans, traceId), traceId);
    assert.deepEqual(await reader!.queryProbeResults({ fromMs, toMs: fromMs + DAY, limit: 1000 }), [...probes].sort((a, b) => b.startedMs - a.startedMs));
    for (const resolution of ["minute", "hour"] as const) {
      const query = { fromMs, toMs: fromMs + DAY, resolution };
      assert.deepEqual(roundedSeries(await reader!.probeSeries(query)), roundedSeries(expectedSeries(probes, query)), resolution);
    }
  });

  void it("counts a retried batch once when the server stored it but the client saw the write fail", async () => {
    const relay = await startClickHouseRelay(cluster.replicas[1]!.url);
    const storage = openStorage(relay.url);
    try {
      await storage.start();
      const fromMs = BASE_MS + 3 * DAY;
      const rows = minuteRows((i) => `retried-${i % 4}.default`, fromMs, 12);
      const lost = relay.loseNextInsertReply();
      await assert.rejects(storage.writeMetrics(rows), (error: Error) => error.name === "StorageUnavailableError");
      await lost;
      // The flusher retries a failed batch as it was; the replicated table recognises the block it already has.
      await storage.writeMetrics(rows);
      await syncReplica(cluster.replicas[0]!.url);
      for (const query of metricQueries(fromMs)) assertAggregatesEqual(await storages[0]!.queryMetrics(query), expectedMetrics(rows, query), JSON.stringify(query));
    } finally {
      await relay.cut();
    }
  });

  void it("keeps both of two identical batches written one after the other: partial sums of an open minute can repeat", async () => {
    const fromMs = BASE_MS + 4 * DAY;
    const rows = minuteRows((i) => `steady-${i % 2}.default`, fromMs, 4);
    await storages[1]!.writeMetrics(rows);
    await storages[1]!.writeMetrics(rows);
    await syncReplica(cluster.replicas[0]!.url);
    const written = [...rows, ...rows];
    for (const query of metricQueries(fromMs)) assertAggregatesEqual(await storages[0]!.queryMetrics(query), expectedMetrics(written, query), JSON.stringify(query));
  });

  void it("drops expired day partitions on both replicas, and only those", async () => {
    const oldDayMs = Date.UTC(2023, 5, 1);
    const shortRetention = { minuteDays: 1, hourDays: 1, dayDays: 1, samplesDays: 1, spansDays: 1, probeResultsDays: 1 };
    const storage = new ClickHouseStorage({ url: cluster.replicas[0]!.url, database, retention: shortRetention, logger, cluster: { name: cluster.name, replicated: true } });
    storages.push(storage);
    await storage.start();
    await storages[1]!.writeMetrics(minuteRows((i) => `expired-${i}.default`, oldDayMs, 10));
    await storages[1]!.writeSamples([sample({ timeMs: oldDayMs + MINUTE })]);
    const [reader, writer] = cluster.replicas.map((replica) => replica.url);
    await syncReplica(reader!);
    const samplesKept = await countOn(reader!, "samples", `time >= toDateTime('2024-01-01 00:00:00')`);
    assert.equal(await countOn(reader!, "metrics_minute", "service LIKE 'expired-%'"), 10);
    assert.equal(await countOn(reader!, "metrics_hour", "service LIKE 'expired-%'"), 10);
    // Three days on: only the old day is past the one-day windows; the 2024 rows are in the future of this clock.
    await storage.enforceRetention(oldDayMs + 3 * DAY);
    await syncReplica(writer!);
    for (const url of [reader!, writer!]) {
      for (const table of ["metrics_minute", "metrics_hour", "metrics_day", "samples"]) assert.equal(await countOn(url, table, "time < toDateTime('2024-01-01 00:00:00')"), 0, `${table} at ${url}`);
      assert.equal(await countOn(url, "samples", `time >= toDateTime('2024-01-01 00:00:00')`), samplesKept, `later samples kept at ${url}`);
    }
  });

  void it("keeps writing while a replica is down, starts meshsight then, says so in /readyz and /metrics, and the replica catches up to the same totals", async () => {
    const [connected, stopped] = cluster.replicas;
    const dataDir = mkdtempSync(join(tmpdir(), "meshsight-replicated-"));
    let meshsight: CliRun | undefined;
    let base = "";
    /** A real meshsight process on the replica that stays up, started during the outage as a restart would be. */
    const startMeshsight = async (): Promise<void> => {
      meshsight = runCli(["start", "--role", "api", "--http-port", "0", "--host", "127.0.0.1"], {
        ...RECEIVERS_ON_FREE_PORTS,
        MESHSIGHT_DATA_DIR: dataDir,
        MESHSIGHT_KUBERNETES: "off",
        MESHSIGHT_CLICKHOUSE_URL: connected!.url,
        MESHSIGHT_CLICKHOUSE_DATABASE: database,
        MESHSIGHT_CLICKHOUSE_CLUSTER: cluster.name,
        MESHSIGHT_CLICKHOUSE_REPLICATED: "true",
      });
      base = `http://127.0.0.1:${await waitForHttpPort(meshsight)}`;
    };
    const replication = async (): Promise<ReadyzReplication> => {
      const response = await fetch(`${base}/readyz`);
      assert.equal(response.status, 200, "a replica down does not make meshsight unready: it still reads and writes");
      return ((await response.json()) as { details: { storage: { replication: ReadyzReplication } } }).details.storage.replication;
    };
    const metricValue = async (name: string): Promise<number> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    };
    try {
      const fromMs = BASE_MS + 6 * DAY;
      const batches = Array.from({ length: 12 }, (_, b) => minuteRows((i) => `outage-${(b + i) % 5}.default`, fromMs + b * HOUR, 8));
      const writer = storages[0]!;
      let failures = 0;
      for (const [b, batch] of batches.entries()) {
        if (b === 4) {
          await stopped!.stop();
          // Up to date, the schema needs no ON CLUSTER DDL, which would wait for the stopped replica.
          await startMeshsight();
        }
        if (b === 8) {
          await waitFor(async () => (await replication()).activeReplicas === 1, "/readyz to report the stopped replica", 20_000);
          const seen = await replication();
          assert.equal(seen.replicas, 2);
          assert.match(seen.problems.join("\n"), /1 of 2 replicas of this node's shard are down/);
          assert.equal(await metricValue("meshsight_clickhouse_replicas"), 2);
          assert.equal(await metricValue("meshsight_clickhouse_replicas_active"), 1);
          assert.equal(await metricValue("meshsight_clickhouse_readonly_tables"), 0);
          await stopped!.start();
        }
        failures += await writeRetrying(() => writer.writeMetrics(batch));
      }
      assert.equal(failures, 0, "the replica that stayed up took every write at once");

      // Back, the replica fetches what it missed: healthy in system.replicas and holding every row.
      const rows = batches.flat();
      await waitUntilPasses(async () => {
        const health = await selectOn<{ active: number; queue: number; readonly: number }>(
          stopped!.url,
          `SELECT min(active_replicas) AS active, sum(queue_size) AS queue, sum(is_readonly) AS readonly FROM system.replicas WHERE database = '${database}'`,
        );
        assert.deepEqual(health, [{ active: 2, queue: 0, readonly: 0 }]);
        assert.equal(await countOn(stopped!.url, "metrics_minute", "service LIKE 'outage-%'"), await countOn(connected!.url, "metrics_minute", "service LIKE 'outage-%'"));
      }, 30_000);
      // The same totals through meshsight on either replica; the adapter on the returned one reconnects by itself.
      for (const query of metricQueries(fromMs)) {
        const expected = expectedMetrics(rows, query);
        assertAggregatesEqual(await storages[0]!.queryMetrics(query), expected, `through the replica that stayed up: ${JSON.stringify(query)}`);
        await waitUntilPasses(async () => assertAggregatesEqual(await storages[1]!.queryMetrics(query), expected, `through the returned replica: ${JSON.stringify(query)}`));
      }
      await waitFor(async () => (await replication()).problems.length === 0, "/readyz to report both replicas up again", 20_000);
      assert.deepEqual(await replication(), { tables: 9, replicas: 2, activeReplicas: 2, readonlyTables: 0, maxDelaySeconds: 0, queuedTasks: 0, problems: [] });
      assert.equal(await metricValue("meshsight_clickhouse_replicas_active"), 2);
    } finally {
      killIfRunning(meshsight);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  void it("while ZooKeeper is down reports read-only tables and fails writes as retryable, reads go on, and once it is back the retried batch counts once", async () => {
    const [storage, otherReplica] = storages;
    const fromMs = BASE_MS + 8 * DAY;
    const before = minuteRows((i) => `zk-${i % 3}.default`, fromMs, 6);
    const during = minuteRows((i) => `zk-${i % 3}.default`, fromMs + HOUR, 6);
    await storage!.writeMetrics(before);
    await cluster.zooKeeper.halt();
    try {
      await assert.rejects(storage!.writeMetrics(during), (error: Error) => error.name === "StorageUnavailableError");
      await waitFor(async () => (await storage!.replication())?.readonlyTables === 9, "every table to turn read-only on the connected replica", 30_000);
      for (const query of metricQueries(fromMs)) assertAggregatesEqual(await storage!.queryMetrics(query), expectedMetrics(before, query), `read during the outage: ${JSON.stringify(query)}`);
    } finally {
      await cluster.zooKeeper.resume();
    }
    await writeRetrying(() => storage!.writeMetrics(during), 90_000);
    const written = [...before, ...during];
    for (const query of metricQueries(fromMs)) {
      assertAggregatesEqual(await storage!.queryMetrics(query), expectedMetrics(written, query), JSON.stringify(query));
      await waitUntilPasses(async () => assertAggregatesEqual(await otherReplica!.queryMetrics(query), expectedMetrics(written, query), `other replica: ${JSON.stringify(query)}`), 60_000);
    }
    assert.equal((await storage!.replication())?.readonlyTables, 0);
  });
});
