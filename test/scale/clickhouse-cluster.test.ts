import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { queryRoutes } from "../../collector/query/query-routes.ts";
import { QueryService } from "../../collector/query/query-service.ts";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import type { SimulationReport } from "../../collector/simulator/traffic-report.ts";
import { buildApp } from "../../core/http/app.ts";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { freshDatabaseName, minuteRow, rawClient, rawSelect } from "../core/storage/clickhouse/helpers.ts";
import { startClickHouseCluster, type RunningClickHouseCluster } from "../services/index.ts";
import { startTestCollector, writeBookinfoPeerMapping } from "../support/test-collector.ts";

/**
 * Scale-out on a ClickHouse cluster, as docs/deploy-clickhouse.md deploys it: two real servers on loopback forming a
 * cluster of two shards, two collectors (each writing through its own node's Distributed tables) taking
 * parts of one simulated mesh's ALS traffic, and a third storage adapter, as a third process would open
 * it, serving the query API. The API must return exactly what was sent, summed over both collectors.
 */

const logger = pino({ level: process.env.E2E_LOG_LEVEL ?? "silent" });
const RETENTION = { minuteDays: 30, hourDays: 30, dayDays: 30, samplesDays: 30, spansDays: 30, probeResultsDays: 30 };
const DAY_MS = 86_400_000;

interface Counts {
  calls: number;
  errors: number;
}

function addCounts(into: Map<string, Counts>, from: Record<string, Counts>): void {
  for (const [key, counts] of Object.entries(from)) {
    const sum = into.get(key) ?? { calls: 0, errors: 0 };
    into.set(key, { calls: sum.calls + counts.calls, errors: sum.errors + counts.errors });
  }
}

void describe("two collectors on a two-shard ClickHouse cluster", () => {
  let cluster: RunningClickHouseCluster;
  const database = freshDatabaseName("ms_cluster");
  const mappingDir = mkdtempSync(join(tmpdir(), "meshsight-cluster-"));
  const reports: SimulationReport[] = [];
  const storages: ClickHouseStorage[] = [];
  let app: ReturnType<typeof buildApp>;
  const startTimeMs = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const range = `from=${startTimeMs}&to=${startTimeMs + 5 * 60_000}`;

  const openStorage = (url: string): ClickHouseStorage => {
    const storage = new ClickHouseStorage({ url, database, retention: RETENTION, logger, cluster: { name: cluster.name, replicated: false } });
    storages.push(storage);
    return storage;
  };

  before(async () => {
    cluster = await startClickHouseCluster("meshsight_test");
    const [first, second] = cluster.nodes.map((node) => openStorage(node.url));
    // One after the other: the first start creates every node's schema, the second finds it in place.
    await first!.start();
    await second!.start();
    const staticMappingFile = writeBookinfoPeerMapping(mappingDir);
    const collectors = [
      await startTestCollector({ storage: first!, logger, settings: { staticMappingFile } }),
      await startTestCollector({ storage: second!, logger, settings: { staticMappingFile } }),
    ];
    const common = { startTimeMs, durationMs: 50_000, faults: [{ kind: "abort", service: "details", fraction: 0.25 } as const] };
    // One mesh, its traffic split between the replicas as a load balancer would: by request, not by service.
    reports.push(
      ...(await Promise.all([
        simulateBookinfo({ ...common, target: collectors[0]!.alsTarget, requests: 200, version: "v3", tcp: true, seed: 7 }),
        simulateBookinfo({ ...common, target: collectors[1]!.alsTarget, requests: 150, version: "v2", seed: 8 }),
      ])),
    );
    // Stopping flushes every open minute; inserts are synchronous to every shard, so what follows sees it all.
    for (const collector of collectors) await collector.stop();
    const reader = openStorage(cluster.nodes[1]!.url);
    await reader.start();
    const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
    app = buildApp({ logger, registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: [queryRoutes(new QueryService(reader))] });
  });

  after(async () => {
    await app?.close();
    for (const storage of storages) await storage.close();
    await cluster?.stop();
    rmSync(mappingDir, { recursive: true, force: true });
  });

  /** One number per node, read from that node's own tables (what the Distributed tables hide). */
  const valueOnEachNode = async (sql: string): Promise<number[]> => {
    const values: number[] = [];
    for (const node of cluster.nodes) {
      const client = rawClient(node.url);
      try {
        const [row] = await rawSelect<{ value: number }>(client, sql);
        values.push(Number(row?.value ?? 0));
      } finally {
        await client.close();
      }
    }
    return values;
  };

  const get = async <T>(url: string): Promise<T> => {
    const response = await app.inject({ method: "GET", url });
    assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
    return response.json<T>();
  };

  void it("sent every entry through both collectors", () => {
    for (const report of reports) assert.deepEqual(report.streamErrors, []);
    assert.ok(reports.every((report) => report.entries.http > 0));
  });

  void it("stores rows on both shards, summing to what the Distributed table reads", async () => {
    const perShard = await valueOnEachNode(`SELECT sum(calls) AS value FROM ${database}.metrics_minute_local WHERE scope = 'service'`);
    assert.ok(perShard.every((calls) => calls > 0), `every shard holds part of the data: ${perShard.join(", ")}`);
    const sent = reports.reduce((sum, report) => sum + Object.values(report.services).reduce((total, counts) => total + counts.calls, 0), 0);
    assert.equal(perShard[0]! + perShard[1]!, sent);
  });

  void it("returns through a third adapter exactly the service calls and errors sent", async () => {
    const services = await get<{ name: string; calls: number; errors: number }[]>(`/api/v1/services?${range}`);
    const expected = new Map<string, Counts>();
    for (const report of reports) addCounts(expected, report.services);
    assert.deepEqual(new Set(services.map((service) => service.name)), new Set(expected.keys()));
    for (const service of services) assert.deepEqual({ calls: service.calls, errors: service.errors }, expected.get(service.name), service.name);
    assert.ok((expected.get("details.default")?.errors ?? 0) > 0, "the abort fault produced errors");
  });

  void it("returns every instance of both collectors' traffic once, and the topology's relations with their calls", async () => {
    const expectedInstances = new Map<string, Counts>();
    const expectedServices = new Map<string, Counts>();
    for (const report of reports) {
      addCounts(expectedInstances, report.instances);
      addCounts(expectedServices, report.services);
    }
    const seen: string[] = [];
    for (const service of expectedServices.keys()) {
      const instances = await get<{ name: string }[]>(`/api/v1/services/${service}/instances?${range}`);
      seen.push(...instances.map((instance) => instance.name));
    }
    assert.deepEqual(seen.sort(), [...expectedInstances.keys()].sort());

    const relationsSent = new Map<string, number>();
    for (const report of reports) {
      for (const [key, counts] of Object.entries(report.relations)) relationsSent.set(key, (relationsSent.get(key) ?? 0) + counts.server.calls);
    }
    const topology = await get<{ edges: { source: string; target: string }[] }>(`/api/v1/topology?${range}`);
    assert.deepEqual(new Set(topology.edges.map((edge) => `${edge.source} -> ${edge.target}`)), new Set(relationsSent.keys()));
    const [source, target] = ["productpage.default", "reviews.default"];
    const { points } = await get<{ points: { v: number }[] }>(
      `/api/v1/metrics?scope=relation&source=${source}&target=${target}&detectPoint=server&metric=calls&step=minute&${range}`,
    );
    assert.equal(points.reduce((sum, point) => sum + point.v, 0), relationsSent.get(`${source} -> ${target}`));
  });

  void it("drops expired days on every node, not only the one it is connected to", async () => {
    const oldDayMs = Math.floor((Date.now() - 60 * DAY_MS) / DAY_MS) * DAY_MS;
    // Enough distinct services that the sharding key sends some to each shard.
    const rows = Array.from({ length: 20 }, (_, i) => minuteRow({ service: `old-${i}.default`, timeMs: oldDayMs + 60_000 }));
    const storage = storages.at(-1)!;
    await storage.writeMetrics(rows);
    const oldRowsPerNode = (): Promise<number[]> => valueOnEachNode(`SELECT count() AS value FROM ${database}.metrics_minute_local WHERE service LIKE 'old-%'`);
    assert.ok((await oldRowsPerNode()).every((count) => count > 0), "the old rows reached both shards");
    await storage.enforceRetention(Date.now());
    assert.deepEqual(await oldRowsPerNode(), [0, 0]);
  });
});
