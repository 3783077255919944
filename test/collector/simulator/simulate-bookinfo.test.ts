import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { buildBookinfoPods, type BookinfoPod } from "../../../collector/simulator/bookinfo-mesh.ts";
import { simulateBookinfo } from "../../../collector/simulator/simulate-bookinfo.ts";
import type { TrafficCounts } from "../../../collector/simulator/traffic-report.ts";
import { type Harness, protocol, startHarness } from "../receivers/envoy-als/harness.ts";

const pods = buildBookinfoPods();
const podByNodeId = new Map(pods.map((pod) => [pod.nodeId, pod]));
const REVIEWS_V3 = pods.find((pod) => pod.service === "reviews" && pod.version === "v3") as BookinfoPod;

/** Server-side calls per service, recomputed from what the receiver decoded (meshsight's error rule). */
function serverSideByService(harness: Harness, fromBatch: number): Record<string, TrafficCounts> {
  const services: Record<string, TrafficCounts> = {};
  for (const batch of harness.ingest.batches.slice(fromBatch)) {
    const pod = podByNodeId.get(batch.proxy.self.service) as BookinfoPod;
    for (const entry of batch.entries as AccessLogEntry[]) {
      const isServerSide = pod.role === "router" || entry.upstreamCluster.startsWith("inbound|");
      if (!isServerSide) continue;
      const counts = (services[`${pod.service}.${pod.namespace}`] ??= { calls: 0, errors: 0 });
      counts.calls++;
      if (entry.responseCode >= 500 || entry.responseFlags !== "") counts.errors++;
    }
  }
  return services;
}

let harness: Harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness.close();
});

test("the pod table follows Istio's node id and naming rules", () => {
  assert.equal(new Set(pods.map((pod) => pod.ip)).size, pods.length, "pod IPs are unique");
  for (const pod of pods) {
    assert.equal(pod.nodeId, `${pod.role}~${pod.ip}~${pod.name}.${pod.namespace}~${pod.namespace}.svc.cluster.local`);
    assert.equal(pod.labels["service.istio.io/canonical-name"], pod.service);
  }
  assert.deepEqual(pods.filter((pod) => pod.service === "reviews").map((pod) => pod.version), ["v1", "v2", "v3"]);
  assert.notStrictEqual(buildBookinfoPods(), pods, "each call returns a fresh table");
});

for (const version of ["v3", "v2"] as const) {
  test(`${version}: what the simulator reports sending is what the receiver decoded`, async () => {
    const batchesBefore = harness.ingest.batches.length;
    const nodesBefore = harness.nodes.length;
    const startTimeMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    const report = await simulateBookinfo({
      target: `127.0.0.1:${harness.port}`,
      requests: 300,
      durationMs: 120_000,
      startTimeMs,
      tcp: true,
      version,
      batchSize: 7,
      protocol,
      faults: [
        { kind: "abort", service: "ratings", fraction: 0.25 },
        { kind: "delay", service: "details", delayMs: 300 },
        { kind: "pod-down", pod: REVIEWS_V3.name },
      ],
    });
    assert.deepEqual(report.streamErrors, []);
    assert.equal(report.requests, 300);
    const batches = harness.ingest.batches.slice(batchesBefore);
    const received = batches.flatMap((batch) => batch.entries);
    assert.equal(received.filter((entry) => entry.protocol === "http").length, report.entries.http);
    assert.equal(received.filter((entry) => entry.protocol === "tcp").length, report.entries.tcp);
    assert.ok(report.entries.tcp > 0, "TCP traffic was simulated");
    // One stream per proxy, identified once: the down pod never logs, so 7 of the 8 proxies speak.
    const nodes = harness.nodes.slice(nodesBefore);
    assert.equal(nodes.length, pods.length - 1);
    assert.ok(!nodes.some((node) => node.id === REVIEWS_V3.nodeId));
    const receivedByProxy: Record<string, number> = {};
    for (const batch of batches) {
      const pod = podByNodeId.get(batch.proxy.self.service) as BookinfoPod;
      receivedByProxy[pod.name] = (receivedByProxy[pod.name] ?? 0) + batch.entries.length;
    }
    assert.deepEqual(receivedByProxy, report.entriesByProxy);
    assert.deepEqual(serverSideByService(harness, batchesBefore), report.services);
    // The faults show: ratings errors near 25 %, reviews-v3 failures at the caller only, slow details.
    const ratings = report.services["ratings.default"] as TrafficCounts;
    assert.ok(ratings.errors > 0 && ratings.errors < ratings.calls / 2, `ratings errors ${ratings.errors}/${ratings.calls}`);
    assert.deepEqual(report.relations["productpage.default -> reviews.default"]?.client, { calls: 300, errors: 100 });
    assert.deepEqual(report.relations["productpage.default -> reviews.default"]?.server, { calls: 200, errors: 0 });
    const details = received.filter((entry) => entry.upstreamCluster === "inbound|9080||" && entry.path === "/details/0");
    assert.ok(details.every((entry) => entry.timeToLastDownstreamTxMs >= 300));
    assert.ok(received.every((entry) => entry.startTimeMs >= startTimeMs && entry.startTimeMs < startTimeMs + 121_000), "traffic sits in the requested window");
    // As Istio logs them: every meshed request carries peer metadata, the caller's mTLS identity and a request id.
    const inbound = received.filter((entry) => entry.upstreamCluster.startsWith("inbound|"));
    assert.ok(inbound.length > 0);
    assert.ok(inbound.every((entry) => entry.tlsMode === "mtls"), "sidecar-to-sidecar traffic is mTLS");
    assert.ok(inbound.every((entry) => entry.downstreamPeer !== null && entry.downstreamPeerPrincipal.startsWith("spiffe://cluster.local/ns/")));
    assert.ok(inbound.filter((entry) => entry.protocol === "http").every((entry) => entry.requestId !== ""));
  });
}

test("dropped peer metadata and mTLS leave exactly those hops without them", async () => {
  const batchesBefore = harness.ingest.batches.length;
  const report = await simulateBookinfo({ target: `127.0.0.1:${harness.port}`, requests: 100, durationMs: 60_000, protocol, dropPeerMetadata: 1, dropMtls: 0.5, seed: 5 });
  assert.deepEqual(report.streamErrors, []);
  const received = harness.ingest.batches.slice(batchesBefore).flatMap((batch) => batch.entries);
  const inbound = received.filter((entry) => entry.upstreamCluster.startsWith("inbound|"));
  assert.ok(received.every((entry) => entry.downstreamPeer === null && entry.upstreamPeer === null), "no entry carries peer metadata");
  const mtls = inbound.filter((entry) => entry.tlsMode === "mtls");
  assert.ok(mtls.length > inbound.length * 0.3 && mtls.length < inbound.length * 0.7, `${mtls.length} of ${inbound.length} hops in mTLS`);
  assert.ok(inbound.every((entry) => (entry.tlsMode === "mtls") === (entry.downstreamPeerPrincipal !== "")), "a SPIFFE identity exactly on mTLS hops");
});

test("gives up with a clear error when nothing accepts its stream", async () => {
  const closed = await startHarness();
  const target = `127.0.0.1:${closed.port}`;
  await closed.close();
  const startedMs = Date.now();
  await assert.rejects(
    simulateBookinfo({ target, requests: 1, protocol, connectTimeoutMs: 1_000 }),
    (error: Error) => error.name === "SimulatorConnectError" && error.message.includes(`nothing accepts ALS streams at ${target}`),
  );
  assert.ok(Date.now() - startedMs < 5_000, "within the connect timeout");
});
