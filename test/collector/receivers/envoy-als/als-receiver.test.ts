import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { AccessLogEntry } from "../../../../core/model/access-log.ts";
import { type HttpEntrySpec, httpEntry, identifier, streamMessage, tcpEntry } from "../../../../collector/simulator/envoy-entries.ts";
import type { AlsVersion } from "../../../../collector/simulator/als-protocol.ts";
import { waitFor } from "../../../support/wait-for.ts";
import { type Harness, metricValue, openRawCall, protocol, rejectCount, startHarness } from "./harness.ts";

const REVIEWS_NODE = {
  id: "sidecar~10.44.2.55~reviews-v1-d66dcfdc5-kh6v7.default~default.svc.cluster.local",
  cluster: "reviews.default",
  metadata: { NAME: "reviews-v1-d66dcfdc5-kh6v7", NAMESPACE: "default", LABELS: { app: "reviews", version: "v1" }, INSTANCE_IPS: "10.44.2.55" },
};

const FULL_HTTP_ENTRY: HttpEntrySpec = {
  startTimeMs: 1_700_000_000_123.5,
  upstreamCluster: "outbound|9080||ratings.default.svc.cluster.local",
  downstreamRemote: "10.44.2.55:41234",
  downstreamDirectRemote: "10.44.2.55:41235",
  downstreamLocal: "10.96.0.23:9080",
  upstreamRemote: "10.44.3.13:9080",
  upstreamLocal: "[fd00::7]:45000",
  method: "POST",
  scheme: "http",
  authority: "ratings:9080",
  path: "/ratings/0",
  originalPath: "/api/ratings/0",
  requestId: "84961386-6d84-929d-98bd-c5aee93b5c88",
  userAgent: "Java/17",
  requestHeaders: { "x-b3-traceid": "b3b3b3b3b3b3b3b3", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
  requestBodyBytes: 42,
  responseCode: 503,
  responseBodyBytes: 95,
  responseFlags: ["URX", "UF", "UAEX"],
  firstUpstreamTxMs: 0.5,
  lastUpstreamRxMs: 10.25,
  lastDownstreamTxMs: 11,
  durationMs: 12,
  tls: { sni: "outbound_.9080_._.ratings.default.svc.cluster.local", localUri: "spiffe://cluster.local/ns/default/sa/bookinfo-reviews" },
  upstreamPeer: { NAME: "ratings-v1-85cc46b6d4-tn9vj", NAMESPACE: "default", CLUSTER_ID: "Kubernetes", LABELS: { app: "ratings", version: "v1", "service.istio.io/canonical-name": "ratings" }, WORKLOAD_NAME: "ratings-v1" },
  downstreamPeer: { name: "reviews-v2-x", namespace: "default", service: "reviews", workload: "reviews-v2", cluster: "Kubernetes", app: "reviews", version: "v2" },
};

const EXPECTED_HTTP_ENTRY: AccessLogEntry = {
  // Start times are kept in whole milliseconds (storage keys and sample times are integer ms).
  startTimeMs: 1_700_000_000_123,
  protocol: "http",
  upstreamCluster: "outbound|9080||ratings.default.svc.cluster.local",
  downstreamRemoteAddress: "10.44.2.55:41234",
  downstreamDirectRemoteAddress: "10.44.2.55:41235",
  downstreamLocalAddress: "10.96.0.23:9080",
  upstreamRemoteAddress: "10.44.3.13:9080",
  upstreamLocalAddress: "[fd00::7]:45000",
  method: "POST",
  scheme: "http",
  authority: "ratings:9080",
  path: "/api/ratings/0",
  responseCode: 503,
  // Envoy's print order (field number), not the order the flags were set in.
  responseFlags: "UF,UAEX,URX",
  durationMs: 12,
  timeToLastDownstreamTxMs: 11,
  upstreamLatencyMs: 9.75,
  bytesReceived: 42,
  bytesSent: 95,
  requestId: "84961386-6d84-929d-98bd-c5aee93b5c88",
  userAgent: "Java/17",
  traceId: "0af7651916cd43dd8448eb211c80319c",
  tlsMode: "tls",
  requestedServerName: "outbound_.9080_._.ratings.default.svc.cluster.local",
  downstreamPeerPrincipal: "",
  downstreamPeer: { name: "reviews-v2-x", namespace: "default", service: "reviews", workload: "reviews-v2", cluster: "Kubernetes", version: "v2", labels: { app: "reviews", version: "v2" } },
  upstreamPeer: {
    name: "ratings-v1-85cc46b6d4-tn9vj",
    namespace: "default",
    service: "ratings",
    workload: "ratings-v1",
    cluster: "Kubernetes",
    version: "v1",
    labels: { app: "ratings", version: "v1", "service.istio.io/canonical-name": "ratings" },
  },
};

const simpleEntry = (path: string, startTimeMs = 1_700_000_000_000): Record<string, unknown> =>
  httpEntry({ startTimeMs, method: "GET", authority: "reviews:9080", path, responseCode: 200, upstreamCluster: "inbound|9080||" });

function encode(parts: Parameters<typeof streamMessage>[0], version: AlsVersion = "v3"): Buffer {
  return protocol.encode(streamMessage(parts), version);
}

let harness: Harness;
before(async () => {
  // The default 5 s handover bound: generous enough that a loaded CI machine never turns a pause into a reject.
  harness = await startHarness({ maxStreams: 40 });
});
after(async () => {
  await harness.close();
});

for (const version of ["v3", "v2"] as const) {
  test(`${version}: an HTTP entry decodes to exactly what the client sent`, async () => {
    const before = harness.ingest.entries.length;
    const { call, outcome } = openRawCall(harness.client, version);
    call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [httpEntry(FULL_HTTP_ENTRY)] }, version));
    call.end();
    assert.equal(await outcome, null);
    const received = harness.ingest.entries.slice(before);
    // v2 has no `duration` field: the decoder falls back to the time to the last downstream byte, like %DURATION%.
    assert.deepEqual(received, [version === "v3" ? EXPECTED_HTTP_ENTRY : { ...EXPECTED_HTTP_ENTRY, durationMs: 11 }]);
    const node = harness.nodes.at(-1);
    assert.deepEqual(node, REVIEWS_NODE);
  });

  test(`${version}: TCP entries carry connection bytes, mTLS and peers`, async () => {
    const before = harness.ingest.entries.length;
    const { call, outcome } = openRawCall(harness.client, version);
    const tcp = tcpEntry({
      startTimeMs: 1_700_000_060_000,
      upstreamCluster: "inbound|3306||",
      downstreamRemote: "10.44.3.13:50000",
      downstreamLocal: "10.44.3.14:3306",
      tls: { sni: "outbound_.3306_._.mysqldb.default.svc.cluster.local", localUri: "spiffe://cluster.local/ns/default/sa/mysql", peerUri: "spiffe://cluster.local/ns/default/sa/bookinfo-ratings" },
      durationMs: 4.5,
      receivedBytes: 123,
      sentBytes: 4567,
      responseFlags: ["UC"],
    });
    call.write(encode({ identifier: identifier(REVIEWS_NODE, "tcp_envoy_accesslog"), tcp: [tcp, tcp] }, version));
    call.end();
    assert.equal(await outcome, null);
    const received = harness.ingest.entries.slice(before);
    assert.equal(received.length, 2);
    const entry = received[0] as AccessLogEntry;
    assert.equal(entry.protocol, "tcp");
    assert.equal(entry.upstreamCluster, "inbound|3306||");
    assert.equal(entry.downstreamRemoteAddress, "10.44.3.13:50000");
    assert.equal(entry.downstreamDirectRemoteAddress, "10.44.3.13:50000");
    assert.equal(entry.bytesReceived, 123);
    assert.equal(entry.bytesSent, 4567);
    assert.equal(entry.tlsMode, "mtls");
    assert.equal(entry.responseFlags, "UC");
    assert.equal(entry.responseCode, 0);
    assert.equal(entry.method, "");
    assert.equal(entry.durationMs, version === "v3" ? 4.5 : -1);
  });
}

test("the identifier arrives only on the first message and holds for the whole stream until a new one", async () => {
  const before = harness.ingest.batches.length;
  const otherNode = { ...REVIEWS_NODE, id: "sidecar~10.44.2.57~reviews-v2-7b8f6d9c5-qz2lp.default~default.svc.cluster.local" };
  const { call, outcome } = openRawCall(harness.client);
  call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/a")] }));
  call.write(encode({ http: [simpleEntry("/b"), simpleEntry("/c")] }));
  call.write(encode({ identifier: identifier(otherNode, "http_envoy_accesslog"), http: [simpleEntry("/d")] }));
  call.write(encode({ http: [simpleEntry("/e")] }));
  call.end();
  assert.equal(await outcome, null);
  const attributed = harness.ingest.batches.slice(before).flatMap((batch) => batch.entries.map((entry) => `${entry.path}@${batch.proxy.self.service}`));
  assert.deepEqual(attributed, [`/a@${REVIEWS_NODE.id}`, `/b@${REVIEWS_NODE.id}`, `/c@${REVIEWS_NODE.id}`, `/d@${otherNode.id}`, `/e@${otherNode.id}`]);
});

test("entries of a stream whose first message has no identifier are counted rejects, not a crash", async () => {
  const rejectedBefore = await rejectCount(harness.registry, "no_identifier");
  const entriesBefore = harness.ingest.entries.length;
  const { call, outcome } = openRawCall(harness.client);
  call.write(encode({ http: [simpleEntry("/x"), simpleEntry("/y"), simpleEntry("/z")] }));
  call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/late")] }));
  call.end();
  assert.equal(await outcome, null);
  assert.equal((await rejectCount(harness.registry, "no_identifier")) - rejectedBefore, 3);
  assert.deepEqual(harness.ingest.entries.slice(entriesBefore).map((entry) => entry.path), ["/late"]);
});

/** Length-delimited field `field` holding `payload`, to hand-craft damaged messages. */
function lengthDelimited(field: number, payload: Buffer): Buffer {
  const length: number[] = [];
  let remaining = payload.length;
  do {
    length.push((remaining & 0x7f) | (remaining > 0x7f ? 0x80 : 0));
    remaining >>>= 7;
  } while (remaining > 0);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...length]), payload]);
}

test("garbage messages and entries are counted rejects; the stream and its good entries carry on", async () => {
  const malformedBefore = await rejectCount(harness.registry, "malformed_message");
  const badEntryBefore = await rejectCount(harness.registry, "bad_entry");
  const entriesBefore = harness.ingest.entries.length;
  const goodEntry = protocol.encode({ http_logs: { log_entry: [simpleEntry("/good")] } }, "v3");
  // http_logs { log_entry: <wire type 7, invalid>, log_entry: <good> } — the bad entry is framed, so only it is lost.
  assert.ok((goodEntry[1] as number) < 0x80, "test setup: the entry list length fits one byte");
  const goodEntryBytes = goodEntry.subarray(2); // strip the http_logs tag and its 1-byte length
  const withBadEntry = lengthDelimited(2, Buffer.concat([lengthDelimited(1, Buffer.from([0x0f])), goodEntryBytes]));
  const { call, outcome } = openRawCall(harness.client);
  call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/first")] }));
  call.write(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f])); // http_logs claiming 4 GiB
  call.write(Buffer.from([0x0f, 0x01, 0x02])); // wire type 7
  call.write(withBadEntry);
  call.write(encode({ http: [simpleEntry("/after")] }));
  call.end();
  assert.equal(await outcome, null);
  assert.equal((await rejectCount(harness.registry, "malformed_message")) - malformedBefore, 2);
  assert.equal((await rejectCount(harness.registry, "bad_entry")) - badEntryBefore, 1);
  assert.deepEqual(harness.ingest.entries.slice(entriesBefore).map((entry) => entry.path), ["/first", "/good", "/after"]);
});

test("many concurrent streams are each attributed to their own proxy", async () => {
  const streams = 20;
  const messagesPerStream = 10;
  const entriesBefore = harness.ingest.batches.length;
  const calls = Array.from({ length: streams }, (_, index) => {
    const node = { ...REVIEWS_NODE, id: `sidecar~10.0.0.${index}~pod-${index}.default~default.svc.cluster.local` };
    const raw = openRawCall(harness.client, index % 2 === 0 ? "v3" : "v2");
    for (let message = 0; message < messagesPerStream; message++) {
      const entries = [simpleEntry(`/s${index}/m${message}/0`), simpleEntry(`/s${index}/m${message}/1`)];
      raw.call.write(encode(message === 0 ? { identifier: identifier(node, "http_envoy_accesslog"), http: entries } : { http: entries }, index % 2 === 0 ? "v3" : "v2"));
    }
    raw.call.end();
    return raw.outcome;
  });
  assert.deepEqual(await Promise.all(calls), Array.from({ length: streams }, () => null));
  const batches = harness.ingest.batches.slice(entriesBefore);
  assert.equal(batches.flatMap((batch) => batch.entries).length, streams * messagesPerStream * 2);
  for (const batch of batches) {
    const streamIndex = batch.proxy.self.service.split("~")[1]?.split(".")[3];
    for (const entry of batch.entries) assert.ok(entry.path.startsWith(`/s${streamIndex}/`), `${entry.path} attributed to stream ${streamIndex}`);
  }
  await waitFor(async () => (await metricValue(harness.registry, "meshsight_als_streams")) === 0, "all streams closed");
});

test("a stream cut mid-way keeps everything it had received, even a batch still waiting for the pipeline", async () => {
  const entriesBefore = harness.ingest.entries.length;
  const { call, outcome } = openRawCall(harness.client);
  call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/one")] }));
  await waitFor(() => harness.ingest.entries.length === entriesBefore + 1, "the first batch");
  let isOpen = false;
  harness.ingest.accepting = () => isOpen;
  try {
    const refusalsBefore = harness.ingest.refusals;
    call.write(encode({ http: [simpleEntry("/two"), simpleEntry("/three")] }));
    await waitFor(() => harness.ingest.refusals > refusalsBefore, "the pipeline to refuse the second batch");
    call.cancel();
    assert.equal((await outcome)?.code, status.CANCELLED);
    isOpen = true;
    await waitFor(() => harness.ingest.entries.length === entriesBefore + 3, "the waiting batch to be handed over after the cut");
  } finally {
    harness.ingest.accepting = () => true;
  }
  assert.deepEqual(harness.ingest.entries.slice(entriesBefore).map((entry) => entry.path), ["/one", "/two", "/three"]);
  await waitFor(async () => (await metricValue(harness.registry, "meshsight_als_streams")) === 0, "the cut stream to be released");
});

test("backpressure pauses the stream and recovers without loss or reordering", async () => {
  const entriesBefore = harness.ingest.entries.length;
  let refusalsLeft = 12;
  harness.ingest.accepting = () => refusalsLeft-- <= 0 || refusalsLeft % 3 !== 0;
  try {
    const { call, outcome } = openRawCall(harness.client);
    const paths: string[] = [];
    for (let message = 0; message < 30; message++) {
      const entries = [0, 1, 2].map((index) => `/bp/${message}/${index}`);
      paths.push(...entries);
      call.write(encode({ identifier: message === 0 ? identifier(REVIEWS_NODE, "http_envoy_accesslog") : undefined, http: entries.map((path) => simpleEntry(path)) }));
    }
    call.end();
    assert.equal(await outcome, null);
    assert.ok(harness.ingest.refusals > 0, "the pipeline refused at least once");
    assert.deepEqual(harness.ingest.entries.slice(entriesBefore).map((entry) => entry.path), paths);
  } finally {
    harness.ingest.accepting = () => true;
  }
});

test("entries are counted by type on the injected registry", async () => {
  const httpBefore = await metricValue(harness.registry, "meshsight_als_entries_total", { type: "http" });
  const tcpBefore = await metricValue(harness.registry, "meshsight_als_entries_total", { type: "tcp" });
  const { call, outcome } = openRawCall(harness.client);
  call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/1"), simpleEntry("/2")] }));
  call.write(encode({ tcp: [tcpEntry({ startTimeMs: 1, receivedBytes: 1, sentBytes: 2 })] }));
  call.end();
  assert.equal(await outcome, null);
  assert.equal((await metricValue(harness.registry, "meshsight_als_entries_total", { type: "http" })) - httpBefore, 2);
  assert.equal((await metricValue(harness.registry, "meshsight_als_entries_total", { type: "tcp" })) - tcpBefore, 1);
});

test("a pipeline that stays full ends the stream with RESOURCE_EXHAUSTED and counts the rejects", async () => {
  const overloaded = await startHarness({ handoverTimeoutMs: 200 });
  try {
    overloaded.ingest.accepting = () => false;
    const { call, outcome } = openRawCall(overloaded.client);
    call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/a"), simpleEntry("/b")] }));
    const error = await outcome;
    assert.equal(error?.code, status.RESOURCE_EXHAUSTED);
    assert.ok(overloaded.ingest.refusals > 1, "the batch was retried before giving up");
    assert.equal(await rejectCount(overloaded.registry, "overloaded"), 2);
    assert.equal(await rejectCount(overloaded.registry, "body-too-large"), 0, "the handler's RESOURCE_EXHAUSTED is not taken for grpc-js's size refusal");
  } finally {
    await overloaded.close();
  }
});

test("streams beyond maxStreams are refused with RESOURCE_EXHAUSTED while the others keep working", async () => {
  const limited = await startHarness({ maxStreams: 2 });
  try {
    const open = [openRawCall(limited.client), openRawCall(limited.client)];
    open.forEach((raw, index) => raw.call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry(`/open${index}`)] })));
    await waitFor(() => limited.ingest.entries.length === 2, "both admitted streams to deliver");
    assert.equal(await metricValue(limited.registry, "meshsight_als_streams"), 2);
    const refused = openRawCall(limited.client);
    refused.call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/refused")] }));
    assert.equal((await refused.outcome)?.code, status.RESOURCE_EXHAUSTED);
    assert.equal(await rejectCount(limited.registry, "too_many_streams"), 1);
    assert.equal(await rejectCount(limited.registry, "body-too-large"), 0, "the handler's RESOURCE_EXHAUSTED is not taken for grpc-js's size refusal");
    for (const raw of open) raw.call.end();
    assert.deepEqual(await Promise.all(open.map((raw) => raw.outcome)), [null, null]);
    assert.deepEqual(limited.ingest.entries.map((entry) => entry.path).sort(), ["/open0", "/open1"]);
  } finally {
    await limited.close();
  }
});

test("stop() hands over what open streams received, then ends them with UNAVAILABLE", async () => {
  const stopping = await startHarness();
  let isStopped = false;
  try {
    const { call, outcome } = openRawCall(stopping.client);
    call.write(encode({ identifier: identifier(REVIEWS_NODE, "http_envoy_accesslog"), http: [simpleEntry("/before-stop")] }));
    await waitFor(() => stopping.ingest.entries.length === 1, "the entry before stop");
    // A batch waiting for the pipeline when stop begins must still be handed over.
    let isOpen = false;
    stopping.ingest.accepting = () => isOpen;
    call.write(encode({ http: [simpleEntry("/waiting")] }));
    await waitFor(() => stopping.ingest.refusals > 0, "the pipeline to refuse");
    const stopped = stopping.receiver.stop();
    isOpen = true;
    await stopped;
    isStopped = true;
    assert.equal((await outcome)?.code, status.UNAVAILABLE);
    assert.deepEqual(stopping.ingest.entries.map((entry) => entry.path), ["/before-stop", "/waiting"]);
  } finally {
    stopping.client.close();
    if (!isStopped) await stopping.receiver.stop();
  }
});
