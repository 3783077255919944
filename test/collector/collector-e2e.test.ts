import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Registry } from "prom-client";
import type { Collector } from "../../collector/collector.ts";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import { groupIdSegments } from "../../collector/endpoints/auto-grouping.ts";
import type { SimulationReport } from "../../collector/simulator/traffic-report.ts";
import { buildApp } from "../../core/http/app.ts";
import type { StorageAdapter } from "../../core/storage/port.ts";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { useClickHouse } from "../services/index.ts";
import { startTestCollector, writeBookinfoPeerMapping } from "../support/test-collector.ts";

/**
 * The collector end to end, as a mesh uses it: Envoy-shaped ALS streams over real gRPC (v3 and v2 paths,
 * sidecars and the ingress gateway, HTTP and TCP), through resolution and aggregation into each real
 * storage, read back through the HTTP API and compared with exactly what the simulator sent.
 */

const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
const logger = pino({ level: process.env.E2E_LOG_LEVEL ?? "silent" });
const RATINGS_DELAY_MS = 2_000;

/** Endpoint names as the collector groups them: `GET:/reviews/0` is `GET:/reviews/{id}`. */
function grouped(endpoint: string): string {
  const colon = endpoint.indexOf(":");
  return `${endpoint.slice(0, colon)}:${groupIdSegments(endpoint.slice(colon + 1))}`;
}

interface Counts {
  calls: number;
  errors: number;
}

function runAgainst(storageName: string, openStorage: () => Promise<{ storage: StorageAdapter; cleanup: () => Promise<void> }>): void {
  describe(`collector end to end on ${storageName}`, () => {
    let storage: StorageAdapter;
    let cleanup: () => Promise<void>;
    let collector: Collector;
    let registry: Registry;
    let app: ReturnType<typeof buildApp>;
    const reports: SimulationReport[] = [];
    // Whole minutes in the recent past: inside the aggregator's lateness window, and a clean query range.
    const startTimeMs = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

    const mappingDir = mkdtempSync(join(tmpdir(), "meshsight-e2e-"));

    before(async () => {
      ({ storage, cleanup } = await openStorage());
      await storage.start();
      const running = await startTestCollector({ storage, logger, settings: { staticMappingFile: writeBookinfoPeerMapping(mappingDir) } });
      ({ collector, registry } = running);
      const target = running.alsTarget;
      const common = { target, startTimeMs, durationMs: 50_000, faults: [{ kind: "delay", service: "ratings", delayMs: RATINGS_DELAY_MS } as const, { kind: "abort", service: "details", fraction: 0.25 } as const] };
      reports.push(await simulateBookinfo({ ...common, requests: 300, version: "v3", tcp: true, seed: 7 }));
      reports.push(await simulateBookinfo({ ...common, requests: 100, version: "v2", seed: 8 }));
      // Stopping flushes every open minute: what the API reads next is everything the collector took.
      await running.stop();
      app = buildApp({ logger, registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: collector.routes });
    });

    after(async () => {
      await app.close();
      await storage.close();
      await cleanup();
      rmSync(mappingDir, { recursive: true, force: true });
    });

    const range = `from=${startTimeMs}&to=${startTimeMs + 5 * 60_000}`;
    const get = async <T>(url: string): Promise<T> => {
      const response = await app.inject({ method: "GET", url });
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
      return response.json<T>();
    };
    const sent = (pick: (report: SimulationReport) => Record<string, Counts>, rename = (key: string) => key): Map<string, Counts> => {
      const total = new Map<string, Counts>();
      for (const report of reports) {
        for (const [rawKey, counts] of Object.entries(pick(report))) {
          const key = rename(rawKey);
          const sum = total.get(key) ?? { calls: 0, errors: 0 };
          total.set(key, { calls: sum.calls + counts.calls, errors: sum.errors + counts.errors });
        }
      }
      return total;
    };

    it("lost no stream and sent what it meant to", () => {
      for (const report of reports) assert.deepEqual(report.streamErrors, []);
      assert.ok(reports[0]!.entries.tcp > 0, "the v3 run includes TCP entries");
    });

    it("reports every service with exactly the calls and errors sent", async () => {
      const services = await get<{ name: string; calls: number; errors: number; layer: string }[]>(`/api/v1/services?${range}`);
      const expected = sent((report) => report.services);
      assert.deepEqual(new Set(services.map((s) => s.name)), new Set(expected.keys()));
      for (const service of services) {
        assert.deepEqual({ calls: service.calls, errors: service.errors }, expected.get(service.name), service.name);
        assert.equal(service.layer, "MESH");
      }
      assert.ok((expected.get("details.default")?.errors ?? 0) > 0, "the abort fault produced errors");
    });

    it("reports instances and endpoints per service with the names and counts sent", async () => {
      const instancesSent = sent((report) => report.instances);
      const endpointsSent = sent(
        (report) => report.endpoints,
        (key) => `${key.slice(0, key.indexOf(" "))} ${grouped(key.slice(key.indexOf(" ") + 1))}`,
      );
      for (const service of ["productpage.default", "reviews.default", "ratings.default", "details.default"]) {
        const instances = await get<{ name: string; cpm: number }[]>(`/api/v1/services/${service}/instances?${range}`);
        const expectedInstances = [...instancesSent.keys()].filter((name) => name.startsWith(service.split(".")[0]!)).sort();
        assert.deepEqual(instances.map((i) => i.name).sort(), expectedInstances, service);
        const endpoints = await get<{ name: string; cpm: number; sla: number }[]>(`/api/v1/services/${service}/endpoints?${range}`);
        const expectedEndpoints = [...endpointsSent.keys()].filter((key) => key.startsWith(`${service} `)).map((key) => key.slice(service.length + 1));
        assert.deepEqual(endpoints.map((e) => e.name).sort(), expectedEndpoints.sort(), service);
        assert.ok(endpoints.length > 0, `${service} has endpoints`);
        for (const endpoint of endpoints) {
          const counts = endpointsSent.get(`${service} ${endpoint.name}`)!;
          assert.equal(Math.round(endpoint.cpm * 5), counts.calls, `${service} ${endpoint.name}`);
        }
      }
    });

    it("reports relations with both detect points, their components and counts", async () => {
      const topology = await get<{ edges: { source: string; target: string; detectPoints: string[]; components: string[] }[] }>(`/api/v1/topology?${range}`);
      const relationsSent = new Map<string, { client: Counts; server: Counts }>();
      for (const report of reports) {
        for (const [key, counts] of Object.entries(report.relations)) {
          const sum = relationsSent.get(key) ?? { client: { calls: 0, errors: 0 }, server: { calls: 0, errors: 0 } };
          relationsSent.set(key, {
            client: { calls: sum.client.calls + counts.client.calls, errors: sum.client.errors + counts.client.errors },
            server: { calls: sum.server.calls + counts.server.calls, errors: sum.server.errors + counts.server.errors },
          });
        }
      }
      assert.deepEqual(new Set(topology.edges.map((e) => `${e.source} -> ${e.target}`)), new Set(relationsSent.keys()));
      for (const edge of topology.edges) {
        const counts = relationsSent.get(`${edge.source} -> ${edge.target}`)!;
        const expectedPoints = [counts.client.calls > 0 ? "client" : "", counts.server.calls > 0 ? "server" : ""].filter(Boolean);
        assert.deepEqual([...edge.detectPoints].sort(), expectedPoints, `${edge.source} -> ${edge.target}`);
        for (const detectPoint of expectedPoints as ("client" | "server")[]) {
          const url = `/api/v1/metrics?scope=relation&source=${edge.source}&target=${edge.target}&detectPoint=${detectPoint}&metric=calls&step=minute&${range}`;
          const { points } = await get<{ points: { v: number }[] }>(url);
          assert.equal(points.reduce((sum, p) => sum + p.v, 0), counts[detectPoint].calls, url);
          const errorsUrl = url.replace("metric=calls", "metric=errors");
          const errors = await get<{ points: { v: number }[] }>(errorsUrl);
          assert.equal(errors.points.reduce((sum, p) => sum + p.v, 0), counts[detectPoint].errors, errorsUrl);
        }
      }
      const mysql = topology.edges.find((e) => e.target === "mysqldb.default");
      assert.ok(mysql, "the TCP relation to mysqldb is on the topology");
      assert.ok(mysql.components.every((c) => c === "tcp" || c === "tls" || c === "mtls"), `TCP components: ${mysql.components.join(",")}`);
      const productpageToReviews = topology.edges.find((e) => e.source === "productpage.default" && e.target === "reviews.default");
      assert.ok(productpageToReviews?.components.includes("http") || productpageToReviews?.components.includes("mtls"));
    });

    it("reports the injected ratings delay in its latency percentiles", async () => {
      const ratings = await get<{ points: { v: number | null }[] }>(`/api/v1/metrics?scope=service&service=ratings.default&metric=p50&step=hour&${range}`);
      const p50 = ratings.points.find((p) => p.v !== null)?.v ?? 0;
      assert.ok(p50 >= RATINGS_DELAY_MS * 0.95 && p50 <= RATINGS_DELAY_MS * 1.5, `ratings p50 ${p50}`);
      const details = await get<{ points: { v: number | null }[] }>(`/api/v1/metrics?scope=service&service=details.default&metric=p99&step=hour&${range}`);
      const detailsP99 = details.points.find((p) => p.v !== null)?.v ?? 0;
      assert.ok(detailsP99 > 0 && detailsP99 < RATINGS_DELAY_MS, `details p99 ${detailsP99}`);
    });

    it("keeps sampled error records for the logs API", async () => {
      const logs = await get<{ service: string; isError: boolean; responseCode: number }[]>(`/api/v1/logs?service=details.default&errors=true&${range}`);
      assert.ok(logs.length > 0, "error samples were kept");
      for (const record of logs) assert.equal(record.isError, true);
    });
  });
}

runAgainst("DuckDB", async () => ({
  storage: new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger }),
  cleanup: async () => {},
}));

runAgainst("ClickHouse", async () => {
  const server = await useClickHouse();
  const database = `e2e_${process.pid}_${Date.now()}`;
  return {
    storage: new ClickHouseStorage({ url: server.url, database, retention: RETENTION, logger }),
    cleanup: async () => {
      await fetch(`${server.url}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${database}`)}`, { method: "POST" });
      await server.stop();
    },
  };
});
