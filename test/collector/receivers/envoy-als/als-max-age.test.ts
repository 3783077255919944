/**
 * ALS stream re-balancing: a connection older than its maximum age gets an HTTP/2 GOAWAY, its streams go on
 * for the grace period, then the connection is closed. A client that ends its stream on the GOAWAY and
 * reconnects loses nothing; a client that ignores it is cut after the grace, and what the receiver got from
 * it is still handed over.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, connectivityState, credentials, type ServiceError, status } from "@grpc/grpc-js";
import pino from "pino";
import { Registry } from "prom-client";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";
import { alsReceiverSettings } from "../../../../collector/receivers/envoy-als/config.ts";
import { AlsReceiver } from "../../../../collector/receivers/envoy-als/als-receiver.ts";
import { httpEntry, identifier, streamMessage } from "../../../../collector/simulator/envoy-entries.ts";
import { waitFor } from "../../../support/wait-for.ts";
import { CollectingIngest, identityOf, metricValue, openRawCall, protocol, type RawCall } from "./harness.ts";

const PRODUCTPAGE_NODE = {
  id: "sidecar~10.44.1.7~productpage-v1-6b746f74dc-9stvs.default~default.svc.cluster.local",
  cluster: "productpage.default",
  metadata: { NAME: "productpage-v1-6b746f74dc-9stvs", NAMESPACE: "default", LABELS: { app: "productpage" } },
};
const ENTRIES_PER_MESSAGE = 10;

interface AgedReceiver {
  receiver: AlsReceiver;
  ingest: CollectingIngest;
  registry: Registry;
  client: Client;
  close(): Promise<void>;
}

async function startAgedReceiver(maxConnectionAgeMs: number, maxConnectionAgeGraceMs: number): Promise<AgedReceiver> {
  const registry = new Registry();
  const logger = pino({ level: "silent" });
  const ingest = new CollectingIngest();
  const receiver = new AlsReceiver({
    host: "127.0.0.1",
    port: 0,
    ingest,
    identify: identityOf,
    rejects: new RejectCounter(registry, logger),
    logger,
    registry,
    maxStreams: 8,
    maxConnectionAgeMs,
    maxConnectionAgeGraceMs,
  });
  const port = await receiver.start();
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    receiver,
    ingest,
    registry,
    client,
    close: async () => {
      client.close();
      await receiver.stop();
    },
  };
}

/** One ALS message of ENTRIES_PER_MESSAGE entries; the first message of a stream names the proxy, as Envoy's does. */
function alsMessage(sequence: number, isFirstOfStream: boolean): Buffer {
  const http = Array.from({ length: ENTRIES_PER_MESSAGE }, (_, index) =>
    httpEntry({ startTimeMs: 1_700_000_000_000 + sequence, method: "GET", authority: "productpage:9080", path: `/p/${sequence}/${index}`, responseCode: 200, upstreamCluster: "inbound|9080||" }),
  );
  return protocol.encode(streamMessage({ identifier: isFirstOfStream ? identifier(PRODUCTPAGE_NODE, "http_envoy_accesslog") : undefined, http }), "v3");
}

/**
 * Counts the GOAWAYs the channel's connections receive: grpc-js moves a READY channel out of READY when its
 * connection is told to go away, which is how a client learns that its stream should move.
 */
class GoawayWatch {
  count = 0;
  lastAtMs = 0;
  private isOver = false;

  constructor(private readonly channel: ReturnType<Client["getChannel"]>) {
    this.watch(channel.getConnectivityState(false));
  }

  stop(): void {
    this.isOver = true;
  }

  private watch(state: connectivityState): void {
    if (this.isOver || state === connectivityState.SHUTDOWN) return;
    this.channel.watchConnectivityState(state, Infinity, () => {
      const next = this.channel.getConnectivityState(false);
      if (state === connectivityState.READY && next !== connectivityState.READY) {
        this.count++;
        this.lastAtMs = Date.now();
      }
      this.watch(next);
    });
  }
}

function write(call: RawCall, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => call.call.write(bytes, (error: Error | null | undefined) => (error ? reject(error) : resolve())));
}

test("a client that ends its stream on the GOAWAY and reconnects loses no entries across several connection ages", async () => {
  const aged = await startAgedReceiver(150, 5_000);
  const goaways = new GoawayWatch(aged.client.getChannel());
  const outcomes: (ServiceError | null)[] = [];
  let sent = 0;
  let streams = 0;
  try {
    let current: RawCall | null = null;
    let goawaysHandled = 0;
    const deadline = Date.now() + 20_000;
    // Until a fourth stream (three moves) carried a message.
    for (let sequence = 0; streams < 4 || current === null; sequence++) {
      assert.ok(Date.now() < deadline, `only ${goaways.count} GOAWAYs after ${sequence} messages`);
      if (current !== null && goaways.count > goawaysHandled) {
        // Half-close: the receiver answers OK only after handing over everything this stream carried.
        goawaysHandled = goaways.count;
        current.call.end();
        outcomes.push(await current.outcome);
        current = null;
      }
      const isFirstOfStream = current === null;
      current ??= openRawCall(aged.client);
      if (isFirstOfStream) streams++;
      await write(current, alsMessage(sequence, isFirstOfStream));
      sent += ENTRIES_PER_MESSAGE;
    }
    if (current !== null) {
      current.call.end();
      outcomes.push(await current.outcome);
    }
    assert.deepEqual(
      outcomes.map((outcome) => outcome?.code ?? status.OK),
      outcomes.map(() => status.OK),
    );
    assert.ok(goaways.count >= 3, `expected a GOAWAY before every new stream, saw ${goaways.count}`);
    assert.equal(aged.ingest.entries.length, sent);
    // Every entry arrived exactly once, in order, with the identity of the proxy on every stream.
    assert.deepEqual(
      aged.ingest.entries.map((entry) => entry.path),
      Array.from({ length: sent }, (_, index) => `/p/${Math.floor(index / ENTRIES_PER_MESSAGE)}/${index % ENTRIES_PER_MESSAGE}`),
    );
    assert.ok(aged.ingest.batches.every((batch) => batch.proxy.self.service === PRODUCTPAGE_NODE.id));
    await waitFor(async () => (await metricValue(aged.registry, "meshsight_als_streams")) === 0, "the ended streams to be released", 5_000);
  } finally {
    goaways.stop();
    await aged.close();
  }
});

test("a stream that ignores the GOAWAY is closed when the grace ends, after everything it sent was handed over", async () => {
  const graceMs = 600;
  const aged = await startAgedReceiver(100, graceMs);
  const goaways = new GoawayWatch(aged.client.getChannel());
  try {
    const stubborn = openRawCall(aged.client);
    let sequence = 0;
    await write(stubborn, alsMessage(sequence++, true));
    await waitFor(() => goaways.count > 0, "the connection to be told to go away", 5_000);
    // The stream is still served after the GOAWAY, for the grace period.
    for (let index = 0; index < 5; index++) await write(stubborn, alsMessage(sequence++, false));
    await waitFor(() => aged.ingest.entries.length === sequence * ENTRIES_PER_MESSAGE, "the messages sent during the grace to be handed over", 5_000);
    const outcome = await stubborn.outcome;
    const closedAfterMs = Date.now() - goaways.lastAtMs;
    assert.notEqual(outcome, null, "the stream must be cut, not answered OK");
    assert.equal(outcome?.code, status.UNAVAILABLE, outcome?.details);
    // The cut comes from the grace timer (started when the GOAWAY was sent), not from the GOAWAY itself.
    assert.ok(closedAfterMs >= graceMs / 2, `cut ${closedAfterMs} ms after the GOAWAY, grace ${graceMs} ms`);
    assert.equal(aged.ingest.entries.length, sequence * ENTRIES_PER_MESSAGE);
    await waitFor(async () => (await metricValue(aged.registry, "meshsight_als_streams")) === 0, "the cut stream to be released", 5_000);
    // The next stream goes over a new connection and is served as usual.
    const next = openRawCall(aged.client);
    await write(next, alsMessage(sequence++, true));
    next.call.end();
    assert.equal(await next.outcome, null);
    assert.equal(aged.ingest.entries.length, sequence * ENTRIES_PER_MESSAGE);
  } finally {
    goaways.stop();
    await aged.close();
  }
});

test("connection age and grace are ALS receiver settings with defaults, and a negative age is refused", () => {
  const defaults = alsReceiverSettings.schema.parse({});
  assert.equal(defaults.maxConnectionAgeMs, 600_000);
  assert.equal(defaults.maxConnectionAgeGraceMs, 30_000);
  assert.equal(alsReceiverSettings.schema.parse({ maxConnectionAgeMs: "0" }).maxConnectionAgeMs, 0);
  assert.throws(() => alsReceiverSettings.schema.parse({ maxConnectionAgeMs: -1 }), /expected an integer 0\.\.86400000/);
  const registry = new Registry();
  const logger = pino({ level: "silent" });
  assert.throws(
    () =>
      new AlsReceiver({
        host: "127.0.0.1",
        port: 0,
        ingest: new CollectingIngest(),
        identify: identityOf,
        rejects: new RejectCounter(registry, logger),
        logger,
        registry,
        maxStreams: 1,
        maxConnectionAgeMs: -5,
      }),
    /maxConnectionAgeMs must be a non-negative integer, got -5/,
  );
});
