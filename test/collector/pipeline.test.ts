import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { Flusher } from "../../collector/aggregate/flusher.ts";
import { MinuteAggregator } from "../../collector/aggregate/minute-aggregator.ts";
import { Sampler } from "../../collector/aggregate/sampler.ts";
import { EndpointGrouper } from "../../collector/endpoints/endpoint-grouper.ts";
import { MeshResolver } from "../../collector/mesh/mesh-resolver.ts";
import { NullPeerResolver } from "../../collector/mesh/peer-resolver.ts";
import { CollectorPipeline } from "../../collector/pipeline.ts";
import type { AccessLogEntry, PeerMetadata, ProxyIdentity } from "../../core/model/access-log.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { meshCall, telemetry } from "./aggregate/fixtures.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

const reviewsProxy: ProxyIdentity = {
  role: "sidecar",
  self: { service: "reviews.default", instance: "reviews-v1-xyz.default" },
  namespace: "default",
  ip: "10.0.0.7",
  attributes: { "pod.ip": "10.0.0.7", version: "v1" },
};

const productpagePeer: PeerMetadata = {
  name: "productpage-v1-abc",
  namespace: "default",
  service: "productpage",
  workload: "productpage-v1",
  cluster: "Kubernetes",
  version: "v1",
  labels: {},
};

/** An inbound HTTP entry logged by the reviews sidecar: productpage -> reviews. */
function inboundEntry(overrides: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    startTimeMs: T0 + 1000,
    protocol: "http",
    upstreamCluster: "inbound|9080||",
    downstreamRemoteAddress: "10.0.0.9:50000",
    downstreamDirectRemoteAddress: "10.0.0.9:50000",
    downstreamLocalAddress: "10.0.0.7:9080",
    upstreamRemoteAddress: "10.0.0.7:9080",
    upstreamLocalAddress: "127.0.0.6:40000",
    method: "GET",
    scheme: "http",
    authority: "reviews:9080",
    path: "/reviews/1",
    responseCode: 200,
    responseFlags: "",
    durationMs: 12,
    timeToLastDownstreamTxMs: 12,
    upstreamLatencyMs: 11,
    bytesReceived: 0,
    bytesSent: 295,
    requestId: "r-1",
    userAgent: "python-requests/2.31",
    traceId: "",
    tlsMode: "mtls",
    requestedServerName: "",
    downstreamPeerPrincipal: "",
    downstreamPeer: productpagePeer,
    upstreamPeer: null,
    ...overrides,
  };
}

function build(options: { maxOpenEntityMinutes?: number } = {}) {
  const t = telemetry();
  const logger = pino({ level: "silent" });
  const clock = { nowMs: T0 + 30_000 };
  const grouper = new EndpointGrouper({ registry: t.registry, clock: () => clock.nowMs });
  const resolver = new MeshResolver({ peers: new NullPeerResolver(), nameEndpoint: (...args) => grouper.nameEndpoint(...args), rejects: t.rejects });
  const aggregator = new MinuteAggregator({ registry: t.registry, rejects: t.rejects, clock: () => clock.nowMs, ...options });
  const sampler = new Sampler({ registry: t.registry, clock: () => clock.nowMs, uniformRate: 0 });
  const storage = new DuckDbStorage({ path: ":memory:", retention: { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 }, logger });
  const flusher = new Flusher({ aggregator, sampler, writer: storage, registry: t.registry, rejects: t.rejects, logger, clock: () => clock.nowMs });
  const pipeline = new CollectorPipeline({
    resolve: (proxy, entry, out) => resolver.resolve(proxy, entry, out),
    aggregator,
    sampler,
    backpressure: [flusher],
    registry: t.registry,
    rejects: t.rejects,
    clock: () => clock.nowMs,
  });
  return { pipeline, aggregator, flusher, storage, clock, telemetry: t };
}

void test("access-log entries become grouped, aggregated rows, entities and samples in DuckDB", async () => {
  const { pipeline, flusher, storage, clock } = build();
  await storage.start();
  try {
    const entries: AccessLogEntry[] = [];
    for (let i = 0; i < 100; i++) {
      entries.push(inboundEntry({ path: `/reviews/${i}?x=${i}`, responseCode: i < 5 ? 503 : 200, startTimeMs: T0 + i * 100 }));
    }
    assert.equal(pipeline.ingest(reviewsProxy, entries), true);
    clock.nowMs = T0 + 10 * MINUTE;
    await flusher.flush();
    const range = { fromMs: T0, toMs: T0 + MINUTE, resolution: "minute" as const, groupByTime: false };
    const [service] = await storage.queryMetrics({ ...range, scope: "service", service: "reviews.default" });
    assert.equal(service?.calls, 100);
    assert.equal(service?.errors, 5);
    const endpoints = await storage.queryMetrics({ ...range, scope: "endpoint", service: "reviews.default" });
    assert.deepEqual(endpoints.map((row) => `${row.name} ${row.calls}`), ["GET:/reviews/{id} 100"]);
    const relations = await storage.queryMetrics({ ...range, scope: "relation" });
    assert.deepEqual(relations.map((row) => `${row.service}>${row.name} ${row.detectPoint} ${row.component} ${row.calls}`), [
      "productpage.default>reviews.default server http 100",
    ]);
    const instances = await storage.listEntities({ kind: "instance", service: "reviews.default", seenSinceMs: 0, limit: 10 });
    assert.deepEqual(instances.map((e) => [e.name, e.attributes]), [["reviews-v1-xyz.default", reviewsProxy.attributes]]);
    const samples = await storage.querySamples({ fromMs: T0, toMs: T0 + MINUTE, onlyErrors: true, limit: 100 });
    assert.equal(samples.length, 5);
    assert.equal(samples[0]?.peerService, "productpage.default");
    assert.equal((JSON.parse(samples[0]?.raw ?? "{}") as { upstreamCluster: string }).upstreamCluster, "inbound|9080||");
  } finally {
    await storage.close();
  }
});

void test("over its bound the pipeline refuses the whole batch and takes nothing", async () => {
  const { pipeline, aggregator, telemetry: t } = build({ maxOpenEntityMinutes: 10 });
  let batches = 0;
  while (pipeline.ingest(reviewsProxy, [inboundEntry({ path: `/page${batches}/a` })])) batches++;
  assert.ok(batches > 0 && batches < 10, `accepted ${batches} batches`);
  const open = aggregator.openEntityMinutes;
  assert.equal(pipeline.ingest(reviewsProxy, [inboundEntry({ path: "/another" })]), false);
  assert.equal(pipeline.ingestCalls([meshCall({ endpoint: "GET:/more" })]), false);
  assert.equal(aggregator.openEntityMinutes, open, "nothing was taken");
  const refused = await t.registry.getSingleMetric("meshsight_pipeline_refused_batches_total")?.get();
  assert.equal(refused?.values[0]?.value, 3, "the batch that ended the loop and the two above");
  aggregator.drain(T0 + 10 * MINUTE);
  assert.equal(pipeline.ingestCalls([meshCall({ endpoint: "GET:/more" })]), true, "room again after a drain");
  assert.equal(await t.rejected("aggregate", "late"), 1, "taken, but its minute was handed over already");
});

void test("a resolver that throws costs one counted reject, not the batch", async () => {
  const t = telemetry();
  const aggregator = new MinuteAggregator({ registry: t.registry, rejects: t.rejects, clock: () => T0 + 30_000 });
  const pipeline = new CollectorPipeline({
    resolve: (_proxy, entry, out) => {
      if (entry.path === "/boom") throw new Error("cannot resolve");
      out.push(meshCall({ timeMs: entry.startTimeMs }));
      return 1;
    },
    aggregator,
    sampler: new Sampler({ registry: t.registry }),
    registry: t.registry,
    rejects: t.rejects,
  });
  assert.equal(pipeline.ingest(reviewsProxy, [inboundEntry(), inboundEntry({ path: "/boom" }), inboundEntry()]), true);
  assert.equal(await t.rejected("pipeline", "resolve-error"), 1);
  const service = aggregator.drain(T0 + 10 * MINUTE).metrics.find((row) => row.scope === "service");
  assert.equal(service?.calls, 2);
});

void test("calls a resolver pushed before throwing, or beyond the count it returned, are never aggregated", async () => {
  const t = telemetry();
  const aggregator = new MinuteAggregator({ registry: t.registry, rejects: t.rejects, clock: () => T0 + 30_000 });
  const pipeline = new CollectorPipeline({
    resolve: (_proxy, entry, out) => {
      out.push(meshCall({ timeMs: entry.startTimeMs, endpoint: `GET:${entry.path}` }));
      if (entry.path === "/half") throw new Error("failed after pushing one call");
      // Pushes a second call but owns up to only one: the extra must not leak into the next entry.
      out.push(meshCall({ timeMs: entry.startTimeMs, endpoint: "GET:/uncounted" }));
      return 1;
    },
    aggregator,
    sampler: new Sampler({ registry: t.registry }),
    registry: t.registry,
    rejects: t.rejects,
  });
  const paths = ["/a", "/half", "/b", "/half", "/c"];
  assert.equal(pipeline.ingest(reviewsProxy, paths.map((path) => inboundEntry({ path }))), true);
  assert.equal(await t.rejected("pipeline", "resolve-error"), 2);
  const endpoints = aggregator.drain(T0 + 10 * MINUTE).metrics.filter((row) => row.scope === "endpoint");
  assert.deepEqual(endpoints.map((row) => `${row.name} ${row.calls}`).sort(), ["GET:/a 1", "GET:/b 1", "GET:/c 1"]);
});

void test("distinct URLs from one client leave at most cap + 1 endpoint rows per minute", () => {
  const { pipeline, aggregator } = build();
  const batch: AccessLogEntry[] = [];
  for (let i = 0; i < 100_000; i++) {
    // Letters only, so automatic grouping cannot help: the per-service cap (1000 by default) must hold.
    batch.push(inboundEntry({ path: `/search/${i.toString(26).replace(/\d/g, (d) => "qrstuvwxyz"[Number(d)] ?? "q")}` }));
    if (batch.length === 1000) {
      assert.equal(pipeline.ingest(reviewsProxy, batch), true);
      batch.length = 0;
    }
  }
  const endpoints = aggregator.drain(T0 + 10 * MINUTE).metrics.filter((row) => row.scope === "endpoint");
  assert.equal(endpoints.length, 1001);
  const overflow = endpoints.find((row) => row.name === "{overflow}");
  assert.equal(overflow?.calls, 100_000 - 1000);
});
