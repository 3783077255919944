import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildApp } from "../../../core/http/app.ts";
import { newDenseHistogram, PERCENTILE_RELATIVE_ERROR, recordLatency, toSparse } from "../../../core/model/histogram.ts";
import type { MetricKey, MinuteMetrics } from "../../../core/model/metrics.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";
import { queryRoutes } from "../../../collector/query/query-routes.ts";
import { QueryService } from "../../../collector/query/query-service.ts";

const T0 = Date.UTC(2026, 10, 23, 10, 0);
const NOW = T0 + 10 * 60_000;
const logger = createLogger({ level: "silent" });

function row(key: Partial<MetricKey> & Pick<MetricKey, "scope" | "service">, minute: number, latencies: number[], errors = 0): MinuteMetrics {
  const histogram = newDenseHistogram();
  for (const ms of latencies) recordLatency(histogram, ms);
  return {
    name: "",
    detectPoint: "",
    component: "",
    ...key,
    timeMs: T0 + minute * 60_000,
    calls: latencies.length,
    errors,
    latencySumMs: latencies.reduce((a, b) => a + b, 0),
    apdexSatisfied: latencies.filter((ms) => ms <= 500).length,
    apdexTolerating: latencies.filter((ms) => ms > 500 && ms <= 2000).length,
    bytesIn: 10 * latencies.length,
    bytesOut: 20 * latencies.length,
    histogram: toSparse(histogram),
  };
}

describe("query API over DuckDB", () => {
  const storage = new DuckDbStorage({ path: ":memory:", retention: { minuteDays: 7, hourDays: 30, dayDays: 400, samplesDays: 3, spansDays: 7, probeResultsDays: 14 }, logger });
  const app = buildApp({
    logger,
    registry: createMetricsRegistry({ version: "test", collectDefaults: false }),
    readinessChecks: [],
    bodyLimitBytes: 1 << 20,
    routes: [queryRoutes(new QueryService(storage), () => NOW)],
  });
  const ratingsLatencies = Array.from({ length: 100 }, (_, i) => i + 1);

  before(async () => {
    await storage.start();
    await storage.writeMetrics([
      row({ scope: "service", service: "ratings.default" }, 1, ratingsLatencies, 7),
      row({ scope: "service", service: "ratings.default" }, 2, [5, 5], 0),
      row({ scope: "service", service: "reviews.default" }, 1, [20, 30], 0),
      row({ scope: "instance", service: "ratings.default", name: "ratings-v1-abc.default" }, 1, ratingsLatencies, 7),
      row({ scope: "endpoint", service: "ratings.default", name: "GET:/ratings/{id}" }, 1, ratingsLatencies, 7),
      row({ scope: "relation", service: "reviews.default", name: "ratings.default", detectPoint: "client", component: "http" }, 1, [9, 9, 9], 2),
      row({ scope: "relation", service: "reviews.default", name: "ratings.default", detectPoint: "server", component: "mtls" }, 1, [8, 8], 1),
    ]);
    await storage.writeEntities([
      { kind: "instance", service: "ratings.default", name: "ratings-v1-abc.default", layer: "MESH", attributes: { pod_ip: "10.44.0.7" }, lastSeenMs: T0 },
      { kind: "service", service: "ratings.default", name: "", layer: "MESH", attributes: {}, lastSeenMs: T0 },
    ]);
  });
  after(async () => {
    await app.close();
    await storage.close();
  });

  const get = async (url: string): Promise<{ status: number; body: unknown }> => {
    const response = await app.inject({ method: "GET", url });
    return { status: response.statusCode, body: response.json() };
  };

  it("lists services with cpm, sla and p95 over the default 30-minute window", async () => {
    const { status, body } = await get("/api/v1/services");
    assert.equal(status, 200);
    const services = body as { name: string; layer: string; cpm: number; sla: number; p95: number; calls: number }[];
    assert.deepEqual(services.map((s) => s.name), ["ratings.default", "reviews.default"]);
    const ratings = services[0]!;
    assert.equal(ratings.layer, "MESH");
    assert.equal(ratings.calls, 102);
    assert.equal(ratings.cpm, 102 / 30);
    assert.equal(ratings.sla, (95 / 102) * 100);
    // nearest-rank p95 of 1..100 plus two 5 ms calls is 96 ms
    assert.ok(Math.abs(ratings.p95 - 96) / 96 <= PERCENTILE_RELATIVE_ERROR, `p95 ${ratings.p95}`);
  });

  it("lists instances with their attributes and endpoints of one service", async () => {
    const instances = await get("/api/v1/services/ratings.default/instances");
    assert.deepEqual((instances.body as { name: string; attributes: unknown }[]).map((i) => [i.name, i.attributes]), [
      ["ratings-v1-abc.default", { pod_ip: "10.44.0.7" }],
    ]);
    const endpoints = await get(`/api/v1/services/${encodeURIComponent("ratings.default")}/endpoints`);
    assert.deepEqual((endpoints.body as { name: string }[]).map((e) => e.name), ["GET:/ratings/{id}"]);
    const none = await get("/api/v1/services/nope.default/endpoints");
    assert.deepEqual(none.body, []);
  });

  it("merges both detect points of a relation into one edge measured by the server side", async () => {
    const { body } = await get("/api/v1/topology");
    const topology = body as { nodes: { name: string; isReal: boolean }[]; edges: { source: string; target: string; detectPoints: string[]; components: string[]; cpm: number; sla: number }[] };
    assert.equal(topology.edges.length, 1);
    const edge = topology.edges[0]!;
    assert.deepEqual([edge.source, edge.target], ["reviews.default", "ratings.default"]);
    assert.deepEqual([...edge.detectPoints].sort(), ["client", "server"]);
    assert.deepEqual([...edge.components].sort(), ["http", "mtls"]);
    assert.equal(edge.sla, 50);
    assert.deepEqual(topology.nodes.map((n) => n.name).sort(), ["ratings.default", "reviews.default"]);
  });

  it("serves a metric series with a point per minute, gaps filled", async () => {
    const from = T0;
    const to = T0 + 4 * 60_000;
    const cpm = await get(`/api/v1/metrics?scope=service&service=ratings.default&metric=cpm&step=minute&from=${from}&to=${to}`);
    assert.deepEqual(cpm.body, { points: [0, 100, 2, 0].map((v, i) => ({ t: T0 + i * 60_000, v })) });
    const sla = await get(`/api/v1/metrics?scope=service&service=ratings.default&metric=sla&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`);
    assert.deepEqual((sla.body as { points: { v: number | null }[] }).points.map((p) => p.v), [null, 93, 100, null]);
    const relation = await get(`/api/v1/metrics?scope=relation&source=reviews.default&target=ratings.default&detectPoint=client&metric=errors&from=${from}&to=${to}`);
    assert.deepEqual((relation.body as { points: { v: number }[] }).points.map((p) => p.v), [0, 2, 0, 0]);
  });

  it("rejects bad parameters with MS_INVALID_PARAMETER naming the parameter", async () => {
    for (const [url, name] of [
      ["/api/v1/metrics?scope=service&service=x&metric=p42", "metric"],
      ["/api/v1/metrics?scope=galaxy&service=x&metric=cpm", "scope"],
      ["/api/v1/metrics?scope=endpoint&service=x&metric=cpm", "name"],
      ["/api/v1/services?from=yesterday", "from"],
      [`/api/v1/services?from=${NOW}&to=${NOW - 1}`, "from"],
      ["/api/v1/logs?limit=0", "limit"],
    ] as const) {
      const { status, body } = await get(url);
      assert.equal(status, 400, url);
      const error = (body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, "MS_INVALID_PARAMETER", url);
      assert.match(error.message, new RegExp(`parameter ${name}`), url);
    }
  });
});
