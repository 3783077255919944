/**
 * Test harness for the ALS receiver: a real receiver on a loopback port, a collecting ingest (our own
 * interface, so a test double is honest here), an identify that records the nodes it saw, and a raw
 * gRPC client that can send genuine encodings or garbage bytes.
 */
import { Client, type ClientWritableStream, credentials, type ServiceError } from "@grpc/grpc-js";
import pino from "pino";
import { Registry } from "prom-client";
import type { AccessLogEntry, NodeInfo, ProxyIdentity } from "../../../../core/model/access-log.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";
import type { AccessLogIngest } from "../../../../collector/ingest.ts";
import { AlsReceiver } from "../../../../collector/receivers/envoy-als/als-receiver.ts";
import { type AlsProtocol, type AlsVersion, loadAlsProtocol } from "../../../../collector/simulator/als-protocol.ts";

export const protocol: AlsProtocol = loadAlsProtocol();

export interface IngestedBatch {
  proxy: ProxyIdentity;
  entries: readonly AccessLogEntry[];
}

/** Collects what the receiver hands over; `accepting` decides whether a batch is taken (backpressure tests). */
export class CollectingIngest implements AccessLogIngest {
  readonly batches: IngestedBatch[] = [];
  refusals = 0;
  accepting: () => boolean = () => true;

  ingest(proxy: ProxyIdentity, entries: readonly AccessLogEntry[]): boolean {
    if (!this.accepting()) {
      this.refusals++;
      return false;
    }
    this.batches.push({ proxy, entries });
    return true;
  }

  get entries(): AccessLogEntry[] {
    return this.batches.flatMap((batch) => batch.entries);
  }
}

/** Identity = the node id, so tests can check which stream an entry was attributed to. */
export function identityOf(node: NodeInfo): ProxyIdentity {
  return { role: node.id.startsWith("router~") ? "router" : "sidecar", self: { service: node.id, instance: node.cluster }, namespace: "", ip: "", attributes: {} };
}

export interface Harness {
  receiver: AlsReceiver;
  port: number;
  ingest: CollectingIngest;
  nodes: NodeInfo[];
  registry: Registry;
  client: Client;
  close(): Promise<void>;
}

export async function startHarness(options: { maxStreams?: number; handoverTimeoutMs?: number } = {}): Promise<Harness> {
  const registry = new Registry();
  const logger = pino({ level: "silent" });
  const ingest = new CollectingIngest();
  const nodes: NodeInfo[] = [];
  const receiver = new AlsReceiver({
    host: "127.0.0.1",
    port: 0,
    ingest,
    identify: (node) => {
      nodes.push(node);
      return identityOf(node);
    },
    rejects: new RejectCounter(registry, logger),
    logger,
    registry,
    maxStreams: options.maxStreams ?? 64,
    handoverTimeoutMs: options.handoverTimeoutMs,
  });
  const port = await receiver.start();
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    receiver,
    port,
    ingest,
    nodes,
    registry,
    client,
    async close() {
      client.close();
      await receiver.stop();
    },
  };
}

export interface RawCall {
  call: ClientWritableStream<Buffer>;
  /** Settles with the call's outcome: null for OK, the error otherwise. */
  outcome: Promise<ServiceError | null>;
}

/** Opens a StreamAccessLogs call that writes raw bytes on the given API version's path. */
export function openRawCall(client: Client, version: AlsVersion = "v3"): RawCall {
  let settle: (error: ServiceError | null) => void = () => undefined;
  const outcome = new Promise<ServiceError | null>((resolve) => (settle = resolve));
  const call = client.makeClientStreamRequest<Buffer, object>(
    protocol.methodPath(version),
    (bytes) => bytes,
    () => ({}),
    (error) => settle(error),
  );
  return { call, outcome };
}

/** Current value of a counter or gauge series on the registry (0 when absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const data = await metric.get();
  const series = data.values.find((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted));
  return series?.value ?? 0;
}

export function rejectCount(registry: Registry, reason: string): Promise<number> {
  return metricValue(registry, "meshsight_rejected_total", { source: "als", reason });
}

