import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { MinuteAggregator } from "../../collector/aggregate/minute-aggregator.ts";
import { createCollector } from "../../collector/collector.ts";
import { collectorSection } from "../../collector/config.ts";
import { Sampler } from "../../collector/aggregate/sampler.ts";
import { EndpointGrouper } from "../../collector/endpoints/endpoint-grouper.ts";
import { MeshResolver } from "../../collector/mesh/mesh-resolver.ts";
import { NullPeerResolver } from "../../collector/mesh/peer-resolver.ts";
import { CollectorPipeline } from "../../collector/pipeline.ts";
import { receiversSection } from "../../collector/receivers/config.ts";
import type { AccessLogEntry, ProxyIdentity } from "../../core/model/access-log.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { RejectCounter } from "../../core/telemetry/rejects.ts";
import { KEEP_EVERYTHING } from "../support/test-storages.ts";
import { telemetry } from "./aggregate/fixtures.ts";
import { httpEntry } from "./mesh/entries.ts";
import { metricValue } from "./receivers/envoy-als/harness.ts";

/**
 * Request-id pairing of an input read by its own time (a replayed or ingested log): the pairing window
 * moves with the records' time, so what pairs is decided by the log alone, whether it is read at once or a
 * record at a time with the clock running on between reads; and two legs pair when their records are
 * within the window of each other, however many hours the log spans.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WINDOW_MS = 10_000;
/** Two days ago, on a minute: the log's first record. */
const OLD = Math.floor((Date.now() - 48 * HOUR) / MINUTE) * MINUTE;

function sidecar(service: string, ip: string): ProxyIdentity {
  return { role: "sidecar", self: { service: `${service}.default`, instance: `${service}-v1.default` }, namespace: "default", ip, attributes: {} };
}

const productpage = sidecar("productpage", "10.44.1.23");
const reviews = sidecar("reviews", "10.44.1.27");

interface Logged {
  proxy: ProxyIdentity;
  entry: AccessLogEntry;
  /** When the proxy wrote the line: the request's end, which orders the log. */
  loggedAtMs: number;
}

/** productpage's outbound leg towards reviews. */
function clientLeg(requestId: string, startTimeMs: number, loggedAtMs = startTimeMs): Logged {
  const entry = httpEntry({
    startTimeMs,
    requestId,
    upstreamCluster: "outbound|9080||reviews.default.svc.cluster.local",
    downstreamRemoteAddress: "10.44.1.23:40001",
    downstreamDirectRemoteAddress: "10.44.1.23:40001",
    downstreamLocalAddress: "10.96.0.22:9080",
    upstreamRemoteAddress: "10.44.1.27:9080",
    upstreamLocalAddress: "10.44.1.23:40002",
  });
  return { proxy: productpage, entry, loggedAtMs };
}

/** reviews' inbound leg; the caller's address is a NAT address nobody maps, so only the request id can name it. */
function serverLeg(requestId: string, startTimeMs: number, loggedAtMs = startTimeMs): Logged {
  const entry = httpEntry({ startTimeMs, requestId, downstreamRemoteAddress: "100.64.0.9:40002", downstreamDirectRemoteAddress: "100.64.0.9:40002", downstreamLocalAddress: "10.44.1.27:9080" });
  return { proxy: reviews, entry, loggedAtMs };
}

const SLOT_MS = 20_000;
const SLOTS = (3 * HOUR) / SLOT_MS;

/**
 * Three hours of productpage -> reviews, one request every 20 s (more than the window, so requests never
 * pair with each other's legs), in five kinds taking turns: legs 1 s apart caller first, legs 0.5 s apart
 * callee first, legs 30 s apart (farther than the window), a callee leg whose caller never logged, and a
 * request whose two legs were logged 40 s after they started (out of order, within the lateness).
 */
function threeHourLog(): Logged[] {
  const log: Logged[] = [];
  for (let slot = 0; slot < SLOTS; slot++) {
    const at = OLD + slot * SLOT_MS;
    const id = `req-${slot}`;
    switch (slot % 5) {
      case 0:
        log.push(clientLeg(id, at), serverLeg(id, at + 1_000));
        break;
      case 1:
        log.push(serverLeg(id, at), clientLeg(id, at + 500));
        break;
      case 2:
        log.push(clientLeg(id, at), serverLeg(id, at + 30_000));
        break;
      case 3:
        log.push(serverLeg(id, at));
        break;
      default:
        log.push(serverLeg(id, at + 1, at + 40_000), clientLeg(id, at, at + 40_000));
    }
  }
  return log.sort((a, b) => a.loggedAtMs - b.loggedAtMs);
}

/** Slots of each kind: a fifth of them. */
const PER_KIND = SLOTS / 5;

interface Outcome {
  paired: { byRequestId: number; noClientLeg: number; serverRelationCalls: number; clientRelationCalls: number; reviewsCalls: number };
  /** The most client legs the pairing held after any batch. */
  mostCallersHeld: number;
}

/**
 * Ingests `log` as one event-time input, `batches` at a time, the clock moving on by `pauseMs` after each
 * (a slow reader), and drains what it aggregated.
 */
async function ingest(log: readonly Logged[], batches: (log: readonly Logged[]) => Logged[][], pauseMs: number): Promise<Outcome> {
  const t = telemetry();
  const clock = { nowMs: OLD + 50 * HOUR };
  const now = (): number => clock.nowMs;
  const grouper = new EndpointGrouper({ registry: t.registry, clock: now });
  const resolver = new MeshResolver({ peers: new NullPeerResolver(), nameEndpoint: (...args) => grouper.nameEndpoint(...args), rejects: t.rejects });
  const aggregator = new MinuteAggregator({ registry: t.registry, rejects: t.rejects, clock: now });
  const pipeline = new CollectorPipeline({
    resolve: (proxy, entry, out) => resolver.resolve(proxy, entry, out),
    aggregator,
    sampler: new Sampler({ registry: t.registry, clock: now, uniformRate: 0 }),
    registry: t.registry,
    rejects: t.rejects,
    clock: now,
    pairingWindowMs: WINDOW_MS,
  });
  const input = pipeline.inputJudgedBy(aggregator.eventTimeAdmission(Number.POSITIVE_INFINITY));
  let mostCallersHeld = 0;
  for (const batch of batches(log)) {
    const proxy = batch[0]?.proxy as ProxyIdentity;
    assert.equal(input.ingest(proxy, batch.map((logged) => logged.entry)), true);
    mostCallersHeld = Math.max(mostCallersHeld, await metricValue(t.registry, "meshsight_caller_pairing_entries", { kind: "callers" }));
    clock.nowMs += pauseMs;
  }
  input.end?.();
  assert.equal(await metricValue(t.registry, "meshsight_caller_pairing_entries", { kind: "waiting" }), 0, "the end of the input gave up every waiting leg");
  assert.equal(await metricValue(t.registry, "meshsight_caller_pairing_entries", { kind: "callers" }), 0, "and released its callers");
  const rows = aggregator.drain(clock.nowMs, true).metrics;
  const callsOf = (match: (row: (typeof rows)[number]) => boolean): number => rows.filter(match).reduce((sum, row) => sum + row.calls, 0);
  const relation = (detectPoint: string) => (row: (typeof rows)[number]) => row.scope === "relation" && row.service === "productpage.default" && row.name === "reviews.default" && row.detectPoint === detectPoint;
  assert.equal(await t.rejected("aggregate", "late"), 0, "the out-of-order requests are within the lateness");
  const paired = {
    byRequestId: await metricValue(t.registry, "meshsight_calls_attributed_by_request_id_total"),
    noClientLeg: await metricValue(t.registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }),
    serverRelationCalls: callsOf(relation("server")),
    clientRelationCalls: callsOf(relation("client")),
    reviewsCalls: callsOf((row) => row.scope === "service" && row.service === "reviews.default"),
  };
  return { paired, mostCallersHeld };
}

/** Each run of one proxy's lines as one batch: the log read as fast as it can be. */
function runsOfOneProxy(log: readonly Logged[]): Logged[][] {
  const batches: Logged[][] = [];
  for (const logged of log) {
    const last = batches.at(-1);
    if (last?.[0]?.proxy === logged.proxy) last.push(logged);
    else batches.push([logged]);
  }
  return batches;
}

/** Every line a batch of its own. */
function lineByLine(log: readonly Logged[]): Logged[][] {
  return log.map((logged) => [logged]);
}

void test("hours of log: legs within the window of each other in the records' time pair, legs farther apart do not", async () => {
  const { paired, mostCallersHeld } = await ingest(threeHourLog(), runsOfOneProxy, 0);
  // Paired: 1 s apart, 0.5 s apart, and the requests logged 40 s late (their legs side by side in the log).
  assert.equal(paired.byRequestId, 3 * PER_KIND);
  assert.equal(paired.serverRelationCalls, 3 * PER_KIND);
  // Given up: legs 30 s apart and callee legs whose caller never logged.
  assert.equal(paired.noClientLeg, 2 * PER_KIND);
  assert.equal(paired.clientRelationCalls, 4 * PER_KIND);
  assert.equal(paired.reviewsCalls, 5 * PER_KIND, "every callee leg counts for reviews, paired or not");
  // Read at once, the pairing holds the client legs of the last window only (requests are 20 s apart), not
  // the three hours' 432.
  assert.ok(mostCallersHeld <= 2, `held ${mostCallersHeld} client legs at once`);
});

void test("the same log read a line at a time with minutes of pause between lines pairs exactly the same legs", async () => {
  const log = threeHourLog();
  const fast = await ingest(log, runsOfOneProxy, 0);
  const slow = await ingest(log, lineByLine, MINUTE);
  assert.deepEqual(slow.paired, fast.paired);
  assert.equal(slow.paired.byRequestId, 3 * PER_KIND);
  assert.ok(slow.mostCallersHeld <= 3, `held ${slow.mostCallersHeld} client legs at once`);
});

void test("the collector's event-time input gives up its waiting legs when it ends, while the live input's wait on", async () => {
  const logger = pino({ level: "silent" });
  const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
  // Never started: nothing here reaches storage.
  const storage = new DuckDbStorage({ path: ":memory:", retention: KEEP_EVERYTHING, logger });
  const nowMs = OLD + 50 * HOUR;
  const collector = await createCollector(
    { host: "127.0.0.1", writer: storage, reader: storage, registry, rejects: new RejectCounter(registry, logger), logger, clock: () => nowMs },
    { collector: collectorSection.schema.parse({ kubernetes: "off" }), receivers: receiversSection.schema.parse({}) },
  );
  const waiting = (): Promise<number> => metricValue(registry, "meshsight_caller_pairing_entries", { kind: "waiting" });
  const history = collector.eventTimeInput();
  assert.equal(history.ingest.ingest(reviews, [serverLeg("req-in-file", OLD).entry]), true);
  assert.equal(collector.pipeline.ingest(reviews, [serverLeg("req-live", nowMs - 1_000).entry]), true);
  assert.equal(await waiting(), 2);
  history.ingest.end?.();
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }), 1, "the file's leg: its caller can no longer come");
  assert.equal(await waiting(), 1, "the live leg waits for its caller by the clock, which has not moved");
});
