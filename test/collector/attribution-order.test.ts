import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client, credentials } from "@grpc/grpc-js";
import { pino } from "pino";
import { loadAlsProtocol, type AlsMessageObject } from "../../collector/simulator/als-protocol.ts";
import { buildBookinfoPods, istioNodeMetadata, type BookinfoPod } from "../../collector/simulator/bookinfo-mesh.ts";
import { httpEntry, identifier, streamMessage } from "../../collector/simulator/envoy-entries.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { startTestCollector, type TestCollector } from "../support/test-collector.ts";
import { KEEP_EVERYTHING } from "../support/test-storages.ts";
import { waitFor } from "../support/wait-for.ts";
import { metricValue } from "./receivers/envoy-als/harness.ts";

/**
 * The two legs of one call over real ALS streams, in both arrival orders: productpage's sidecar logs its
 * outbound leg, reviews' sidecar its inbound leg with no peer metadata and no mTLS (nothing but the request
 * id names the caller). Whichever leg the collector sees first, the relation is productpage -> reviews, from
 * both detect points. A leg no caller's leg ever pairs with counts for reviews, draws no edge, and is
 * counted by reason.
 */

const logger = pino({ level: "silent" });
const protocol = loadAlsProtocol();
const pods = buildBookinfoPods();
const productpage = pods.find((pod) => pod.service === "productpage") as BookinfoPod;
const reviews = pods.find((pod) => pod.service === "reviews") as BookinfoPod;

/** One leg of productpage -> reviews as Envoy logs it; only the request id ties the two legs together. */
function leg(requestId: string, startTimeMs: number, side: { upstreamCluster: string; downstreamRemote: string; downstreamLocal: string; upstreamLocal?: string; responseCode: number }): Record<string, unknown> {
  return httpEntry({ startTimeMs, method: "GET", authority: "reviews:9080", path: "/reviews/0", requestId, upstreamRemote: `${reviews.ip}:9080`, lastDownstreamTxMs: 5, ...side });
}

function clientLeg(requestId: string, startTimeMs: number): Record<string, unknown> {
  const outbound = { upstreamCluster: "outbound|9080||reviews.default.svc.cluster.local", downstreamRemote: `${productpage.ip}:40001`, downstreamLocal: "10.96.0.22:9080" };
  return leg(requestId, startTimeMs, { ...outbound, upstreamLocal: `${productpage.ip}:40002`, responseCode: 200 });
}

/** reviews' inbound leg; the caller's address is a NAT address nobody maps (as behind a node-level proxy). */
function serverLeg(requestId: string, startTimeMs: number, responseCode = 200): Record<string, unknown> {
  return leg(requestId, startTimeMs, { upstreamCluster: "inbound|9080||", downstreamRemote: "100.64.0.9:40002", downstreamLocal: `${reviews.ip}:9080`, responseCode });
}

/** One ALS stream per proxy, as Envoy keeps them: the node identifies itself on the first message only. */
class ProxyStream {
  private readonly call;
  private hasIdentified = false;

  constructor(
    client: Client,
    private readonly pod: BookinfoPod,
  ) {
    this.call = client.makeClientStreamRequest<AlsMessageObject, object>(protocol.methodPath("v3"), (message) => protocol.encode(message, "v3"), () => ({}), () => undefined);
  }

  send(entry: Record<string, unknown>): void {
    const node = { id: this.pod.nodeId, cluster: this.pod.nodeCluster, metadata: istioNodeMetadata(this.pod) };
    this.call.write(streamMessage({ identifier: this.hasIdentified ? undefined : identifier(node, "http_envoy_accesslog"), http: [entry] }));
    this.hasIdentified = true;
  }

  end(): void {
    this.call.end();
  }
}

describe("request-id pairing over real ALS streams, both arrival orders", () => {
  let storage: DuckDbStorage;
  let running: TestCollector;
  let client: Client;
  let callers: ProxyStream;
  let callees: ProxyStream;
  const startTimeMs = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const held = (kind: string): Promise<number> => metricValue(running.registry, "meshsight_caller_pairing_entries", { kind });
  const unattributed = (reason: string): Promise<number> => metricValue(running.registry, "meshsight_unattributed_calls_total", { reason });

  before(async () => {
    storage = new DuckDbStorage({ path: ":memory:", retention: KEEP_EVERYTHING, logger });
    await storage.start();
    running = await startTestCollector({ storage, logger });
    client = new Client(running.alsTarget, credentials.createInsecure());
    callers = new ProxyStream(client, productpage);
    callees = new ProxyStream(client, reviews);

    // Server leg first: it waits for its caller, then the client leg completes it.
    callees.send(serverLeg("req-server-first", startTimeMs + 1_000));
    await waitFor(async () => (await held("waiting")) === 1, "the server leg waits for its caller");
    callers.send(clientLeg("req-server-first", startTimeMs + 999));
    await waitFor(async () => (await held("waiting")) === 0, "the client leg completed the waiting server leg");

    // Client leg first: it is remembered, and the server leg takes its caller on arrival.
    callers.send(clientLeg("req-client-first", startTimeMs + 2_000));
    await waitFor(async () => (await held("callers")) === 2, "the client leg is remembered");
    callees.send(serverLeg("req-client-first", startTimeMs + 2_001, 503));

    // No client leg ever: reviews counts the call, no edge is drawn.
    callees.send(serverLeg("req-never-paired", startTimeMs + 3_000));
    callees.send(serverLeg("", startTimeMs + 3_001));
    await waitFor(async () => (await held("waiting")) === 1 && (await unattributed("no_request_id")) === 1, "the last legs were taken");
    callers.end();
    callees.end();
    await running.stop();
  });

  after(async () => {
    client.close();
    await storage.close();
  });

  it("draws productpage -> reviews from both detect points and nothing from UNKNOWN", async () => {
    const rows = await storage.queryMetrics({ scope: "relation", fromMs: startTimeMs, toMs: startTimeMs + 60_000, resolution: "minute", groupByTime: false });
    assert.deepEqual(
      rows.map((row) => `${row.service} -> ${row.name} ${row.detectPoint} calls=${row.calls} errors=${row.errors}`).sort(),
      ["productpage.default -> reviews.default client calls=2 errors=0", "productpage.default -> reviews.default server calls=2 errors=1"],
    );
  });

  it("counts every server leg for reviews, paired or not", async () => {
    const [service] = await storage.queryMetrics({ scope: "service", service: "reviews.default", fromMs: startTimeMs, toMs: startTimeMs + 60_000, resolution: "minute", groupByTime: false });
    assert.equal(service?.calls, 4);
    assert.equal(service?.errors, 1);
  });

  it("counts the pairings and each unattributed leg by reason", async () => {
    assert.equal(await metricValue(running.registry, "meshsight_calls_attributed_by_request_id_total"), 2);
    assert.equal(await unattributed("no_client_leg"), 1, "given up at shutdown");
    assert.equal(await unattributed("no_request_id"), 1);
    assert.equal(await unattributed("outside_caller"), 0);
    assert.equal(await held("waiting"), 0);
  });
});
