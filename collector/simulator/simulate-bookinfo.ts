/**
 * Plays bookinfo traffic into an ALS receiver over real gRPC, the way Envoy does: one long-lived
 * client stream per proxy, the identifier on its first message only, entries batched per message (one
 * type per message, as Envoy's `oneof log_entries`), writes held back by HTTP/2 flow control.
 * Returns what was sent, so tests can compare it with what meshsight reports.
 */
import { Client, type ClientWritableStream, credentials, type ServiceError } from "@grpc/grpc-js";
import { type BookinfoPod, istioNodeMetadata } from "./bookinfo-mesh.ts";
import { type BookinfoFault, BookinfoTraffic, type ProxyEntry } from "./bookinfo-traffic.ts";
import { type AlsMessageObject, type AlsProtocol, type AlsVersion, loadAlsProtocol } from "./als-protocol.ts";
import { identifier, streamMessage } from "./envoy-entries.ts";
import { emptyReport, type SimulationReport } from "./traffic-report.ts";

export interface BookinfoSimulationOptions {
  /** `host:port` of the ALS receiver. */
  target: string;
  /** A fixed number of ingress requests; else `ratePerSecond * durationMs / 1000`. */
  requests?: number;
  ratePerSecond?: number;
  durationMs?: number;
  /** Start time of the first request (entries carry simulated times); default: now minus the duration. */
  startTimeMs?: number;
  /** Pace sending at `ratePerSecond` on the wall clock instead of as fast as the receiver takes it. */
  realTime?: boolean;
  faults?: readonly BookinfoFault[];
  /** Adds ratings -> mysqldb TCP connections. */
  tcp?: boolean;
  version?: AlsVersion;
  /** Entries per message; Envoy batches by bytes (16 KiB) or 1 s, which is a few dozen entries. Default 20. */
  batchSize?: number;
  /** Share of hops whose entries carry no Istio peer metadata (default 0: every meshed request has it). */
  dropPeerMetadata?: number;
  /** Share of hops in plaintext, without the mTLS identities sidecars log (default 0). */
  dropMtls?: number;
  seed?: number;
  /** Already loaded protos, to save ~100 ms per run. */
  protocol?: AlsProtocol;
  /** How long to wait for the receiver to accept a connection before giving up; default 5 s. */
  connectTimeoutMs?: number;
}

/** Nothing accepted the simulator's connection in time: no receiver listens at the target. */
export class SimulatorConnectError extends Error {
  override readonly name = "SimulatorConnectError";
}

const DEFAULT_BATCH_SIZE = 20;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_INTERVAL_MS = 10;

interface ProxyStream {
  pod: BookinfoPod;
  call: ClientWritableStream<AlsMessageObject>;
  http: Record<string, unknown>[];
  tcp: Record<string, unknown>[];
  hasSentIdentifier: boolean;
  isFailed: boolean;
  needsDrain: boolean;
  done: Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function simulateBookinfo(options: BookinfoSimulationOptions): Promise<SimulationReport> {
  const requests = options.requests ?? Math.round(((options.ratePerSecond ?? 0) * (options.durationMs ?? 0)) / 1000);
  if (!Number.isInteger(requests) || requests < 0) throw new Error(`requests must be a non-negative integer, got ${requests}`);
  const intervalMs = options.ratePerSecond ? 1000 / options.ratePerSecond : options.durationMs && requests > 0 ? options.durationMs / requests : DEFAULT_INTERVAL_MS;
  const version = options.version ?? "v3";
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const protocol = options.protocol ?? loadAlsProtocol();
  const report = emptyReport();
  const traffic = new BookinfoTraffic(
    {
      requests,
      startTimeMs: options.startTimeMs ?? Date.now() - requests * intervalMs,
      intervalMs,
      faults: options.faults ?? [],
      tcp: options.tcp ?? false,
      dropPeerMetadata: options.dropPeerMetadata ?? 0,
      dropMtls: options.dropMtls ?? 0,
      seed: options.seed ?? 1,
    },
    report,
  );
  const client = new Client(options.target, credentials.createInsecure());
  try {
    await connected(client, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  } catch (error) {
    client.close();
    throw new SimulatorConnectError(`nothing accepts ALS streams at ${options.target}: ${(error as Error).message}`, { cause: error });
  }
  const streams = new Map<string, ProxyStream>();
  const openStream = (pod: BookinfoPod): ProxyStream => {
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const call = client.makeClientStreamRequest<AlsMessageObject, object>(
      protocol.methodPath(version),
      (message) => protocol.encode(message, version),
      () => ({}),
      (error: ServiceError | null) => {
        if (error) {
          stream.isFailed = true;
          report.streamErrors.push(`${pod.name}: ${error.details}`);
        }
        resolveDone();
      },
    );
    const stream: ProxyStream = { pod, call, http: [], tcp: [], hasSentIdentifier: false, isFailed: false, needsDrain: false, done };
    return stream;
  };
  const flush = (stream: ProxyStream, kind: "http" | "tcp"): void => {
    const entries = stream[kind];
    if (entries.length === 0 || stream.isFailed) return;
    const message = streamMessage({
      identifier: stream.hasSentIdentifier ? undefined : identifier({ id: stream.pod.nodeId, cluster: stream.pod.nodeCluster, metadata: istioNodeMetadata(stream.pod) }, `${kind}_envoy_accesslog`),
      [kind]: entries,
    });
    stream.hasSentIdentifier = true;
    report.messages++;
    report.entries[kind] += entries.length;
    report.entriesByProxy[stream.pod.name] = (report.entriesByProxy[stream.pod.name] ?? 0) + entries.length;
    stream[kind] = [];
    if (!stream.call.write(message)) stream.needsDrain = true;
  };
  const accept = ({ proxy, kind, entry }: ProxyEntry): void => {
    let stream = streams.get(proxy.name);
    if (stream === undefined) {
      stream = openStream(proxy);
      streams.set(proxy.name, stream);
    }
    stream[kind].push(entry);
    if (stream[kind].length >= batchSize) flush(stream, kind);
  };
  try {
    const wallStart = Date.now();
    let index = 0;
    for (const requestEntries of traffic.requests()) {
      if (options.realTime && options.ratePerSecond) {
        const dueMs = wallStart + (index * 1000) / options.ratePerSecond - Date.now();
        if (dueMs > 0) await sleep(dueMs);
      }
      index++;
      for (const entry of requestEntries) accept(entry);
      await Promise.all([...streams.values()].filter((stream) => stream.needsDrain).map((stream) => drained(stream)));
    }
    for (const stream of streams.values()) {
      flush(stream, "http");
      flush(stream, "tcp");
      stream.call.end();
    }
    await Promise.all([...streams.values()].map((stream) => stream.done));
  } finally {
    client.close();
  }
  return report;
}

/** Resolves once the channel is connected; rejects when it is not within `timeoutMs`. */
function connected(client: Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => client.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve())));
}

/** Waits until the stream can take more, or is over (a failed call never drains). */
async function drained(stream: ProxyStream): Promise<void> {
  await Promise.race([new Promise<void>((resolve) => stream.call.once("drain", () => resolve())), stream.done]);
  stream.needsDrain = false;
}
