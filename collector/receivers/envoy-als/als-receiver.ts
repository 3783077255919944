/**
 * The Envoy access log service (ALS) gRPC receiver. Serves `StreamAccessLogs` on both the v3 and v2
 * paths with one handler (v2 bytes decode with the v3 layout: the field numbers are the same, https://www.envoyproxy.io/docs/envoy/latest/api-v3/data/accesslog/v3/accesslog.proto),
 * decodes lazily from raw bytes and hands entries to the collector's ingest. Thin by design: identity
 * resolution and aggregation happen behind `ingest` and `identify`.
 */
import type { ChannelOptions, sendUnaryData, Server, ServerReadableStream } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type { AccessLogEntry, NodeInfo, ProxyIdentity } from "../../../core/model/access-log.ts";
import type { RejectCounter } from "../../../core/telemetry/rejects.ts";
import type { AccessLogIngest } from "../../ingest.ts";
import { grpcApi } from "../grpc-api.ts";
import { countGrpcJsRefusals } from "../grpc-refusals.ts";
import { DecoderMemo } from "./decoder-memo.ts";
import { AlsStream, REJECT_SOURCE } from "./als-stream.ts";
import { ALS_V2_METHOD_PATH, ALS_V3_METHOD_PATH, alsServiceDefinition, type EmptyResponse } from "./service-definition.ts";
import { listenFailureReason } from "../../../core/net/listen-failure.ts";

export interface AlsReceiverOptions {
  host: string;
  /** 0 picks a free port; `start()` returns the bound one. */
  port: number;
  ingest: AccessLogIngest;
  identify: (node: NodeInfo) => ProxyIdentity;
  rejects: RejectCounter;
  logger: Logger;
  registry: Registry;
  /** Concurrent streams (one per Envoy); more are refused with RESOURCE_EXHAUSTED. */
  maxStreams: number;
  /** How long a batch the pipeline refuses is retried before the stream is ended; default 5 s. */
  handoverTimeoutMs?: number;
  /** How long `stop()` waits for streams to hand over and close before cutting them; default 10 s. */
  shutdownTimeoutMs?: number;
  /**
   * Age (+/-10% jitter, applied by grpc-js) after which a connection gets an HTTP/2 GOAWAY: Envoy holds one
   * stream per proxy for as long as the connection lives, so without an age the load stays pinned to the
   * replica each proxy first reached. 0 or absent: connections live forever.
   */
  maxConnectionAgeMs?: number;
  /** How long streams on an aged connection may go on before it is closed; 0 or absent: until they end. */
  maxConnectionAgeGraceMs?: number;
}

/**
 * Largest ALS message taken (grpc-js's default, stated so tests and docs can name it): Envoy sends a
 * message per `buffer_size_bytes` (16 KiB by default), far below it; grpc-js ends the stream of a bigger one
 * with RESOURCE_EXHAUSTED, counted as `body-too-large`.
 */
export const ALS_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const DEFAULT_HANDOVER_TIMEOUT_MS = 5_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

export class AlsReceiver {
  private readonly server: Server;
  private readonly streams = new Set<AlsStream>();
  private readonly memo = new DecoderMemo();
  private readonly streamsGauge: Gauge;
  private readonly entriesCounter: Counter<"type">;
  private isStopping = false;

  constructor(private readonly options: AlsReceiverOptions) {
    if (!Number.isInteger(options.maxStreams) || options.maxStreams < 1) throw new Error(`maxStreams must be a positive integer, got ${options.maxStreams}`);
    this.streamsGauge = new Gauge({ name: "meshsight_als_streams", help: "Open Envoy ALS streams.", registers: [options.registry] });
    this.entriesCounter = new Counter({
      name: "meshsight_als_entries_total",
      help: "Envoy ALS entries handed over to the pipeline, by type (http, tcp).",
      labelNames: ["type"],
      registers: [options.registry],
    });
    // Pre-create both series so dashboards see 0 rather than no data before the first entry.
    this.entriesCounter.inc({ type: "http" }, 0);
    this.entriesCounter.inc({ type: "tcp" }, 0);
    this.server = new grpcApi.Server({
      ...connectionAgeOptions(options),
      "grpc.max_receive_message_length": ALS_MAX_MESSAGE_BYTES,
      interceptors: [countGrpcJsRefusals(REJECT_SOURCE, options.rejects)],
    });
    const handler = { StreamAccessLogs: this.handleStream.bind(this) };
    this.server.addService(alsServiceDefinition(ALS_V3_METHOD_PATH), handler);
    this.server.addService(alsServiceDefinition(ALS_V2_METHOD_PATH), handler);
  }

  start(): Promise<number> {
    const { host, port } = this.options;
    const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpcApi.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(new Error(`ALS receiver cannot listen on ${address}: ${listenFailureReason(error)}`, { cause: error }));
        // The collector logs the one "listening" line, with the bound port.
        else resolve(boundPort);
      });
    });
  }

  /** Refuses new streams, lets open ones hand over what they received, ends them, then closes the server. */
  async stop(): Promise<void> {
    this.isStopping = true;
    const timeoutMs = this.options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs).unref()));
    const graceful = (async () => {
      await Promise.all([...this.streams].map((stream) => stream.close()));
      await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    })();
    const outcome = await Promise.race([graceful.then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.options.logger.warn({ openStreams: this.streams.size }, "ALS receiver did not stop in time; closing streams");
      this.server.forceShutdown();
    }
  }

  private handleStream(call: ServerReadableStream<Buffer, EmptyResponse>, respond: sendUnaryData<EmptyResponse>): void {
    const { logger, maxStreams } = this.options;
    if (this.isStopping) {
      respond({ code: grpcApi.status.UNAVAILABLE, details: "meshsight collector is shutting down" });
      return;
    }
    if (this.streams.size >= maxStreams) {
      // Nothing of this stream was read, so nothing is lost: Envoy reconnects later (ALS is lossy by design).
      this.options.rejects.reject(REJECT_SOURCE, "too_many_streams");
      respond({ code: grpcApi.status.RESOURCE_EXHAUSTED, details: `meshsight accepts at most ${maxStreams} ALS streams` });
      return;
    }
    const stream = new AlsStream(call, respond, {
      memo: this.memo,
      ingest: this.options.ingest,
      identify: this.options.identify,
      rejects: this.options.rejects,
      logger,
      handoverTimeoutMs: this.options.handoverTimeoutMs ?? DEFAULT_HANDOVER_TIMEOUT_MS,
      onHandedOver: (entries) => this.countEntries(entries),
    });
    this.streams.add(stream);
    this.streamsGauge.set(this.streams.size);
    void stream.finished.then(() => {
      this.streams.delete(stream);
      this.streamsGauge.set(this.streams.size);
    });
  }

  private countEntries(entries: readonly AccessLogEntry[]): void {
    let tcp = 0;
    for (const entry of entries) if (entry.protocol === "tcp") tcp++;
    if (tcp > 0) this.entriesCounter.inc({ type: "tcp" }, tcp);
    if (entries.length > tcp) this.entriesCounter.inc({ type: "http" }, entries.length - tcp);
  }
}

/**
 * grpc-js server options for the connection age. After the GOAWAY the streams already open go on (so the
 * receiver keeps handing over what arrives) until they end or the grace runs out; a client that ends its
 * stream on the GOAWAY gets OK once everything it sent was handed over, and its next stream opens a new
 * connection, which the Kubernetes Service may route to another replica.
 */
function connectionAgeOptions(options: AlsReceiverOptions): ChannelOptions {
  const ageMs = options.maxConnectionAgeMs ?? 0;
  const graceMs = options.maxConnectionAgeGraceMs ?? 0;
  for (const [name, value] of [["maxConnectionAgeMs", ageMs], ["maxConnectionAgeGraceMs", graceMs]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
  }
  if (ageMs === 0) return {};
  return graceMs === 0 ? { "grpc.max_connection_age_ms": ageMs } : { "grpc.max_connection_age_ms": ageMs, "grpc.max_connection_age_grace_ms": graceMs };
}
