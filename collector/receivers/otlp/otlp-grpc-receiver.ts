/**
 * OTLP/gRPC trace receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export`. Raw bytes in
 * (no proto-loader object conversion), decoded once, handed to the span port (collector/ingest.ts). Status codes follow the OTLP
 * spec (https://opentelemetry.io/docs/specs/otlp/#failures): INVALID_ARGUMENT for requests that will never
 * succeed, UNAVAILABLE while shutting down, RESOURCE_EXHAUSTED with RetryInfo when over capacity (retry later);
 * bad spans inside a good request are a partial success.
 */
import type { sendUnaryData, Server, ServerUnaryCall, ServiceDefinition } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { RejectCounter } from "../../../core/telemetry/rejects.ts";
import type { SpanIngestPort } from "../../ingest.ts";
import { grpcApi } from "../grpc-api.ts";
import { countGrpcJsRefusals } from "../grpc-refusals.ts";
import { OtlpDecodeError } from "./otlp-decoder.ts";
import { encodeExportResponse, encodeRpcStatus, EXPORT_METHOD_PATH } from "./otlp-protos.ts";
import { OtlpWireDecoder } from "./otlp-wire-decoder.ts";
import { listenFailureReason } from "../../../core/net/listen-failure.ts";

export interface OtlpGrpcReceiverOptions {
  host: string;
  /** 0 picks a free port; start() returns the bound one. */
  port: number;
  ingest: SpanIngestPort;
  rejects: RejectCounter;
  logger: Logger;
  /** Largest request accepted, in bytes (grpc-js refuses bigger ones with RESOURCE_EXHAUSTED, counted as `body-too-large`). */
  maxRequestBytes: number;
  /** Most spans one request may carry; more is INVALID_ARGUMENT (exporters split batches). */
  maxSpansPerRequest: number;
}

const REJECT_SOURCE = "otlp";
/** gRPC's trailer for a google.rpc.Status with details (https://grpc.io/docs/guides/error/#richer-error-model). */
const STATUS_DETAILS_KEY = "grpc-status-details-bin";
const RETRY_AFTER_SECONDS = 1;

function traceServiceDefinition(): ServiceDefinition {
  return {
    Export: {
      path: EXPORT_METHOD_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (message: Buffer) => message,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (message: Uint8Array) => Buffer.from(message.buffer, message.byteOffset, message.byteLength),
      responseDeserialize: (bytes: Buffer) => bytes,
      originalName: "export",
    },
  };
}

export class OtlpGrpcReceiver {
  private readonly server: Server;
  private readonly decoder: OtlpWireDecoder;
  private isStopping = false;

  constructor(private readonly options: OtlpGrpcReceiverOptions) {
    this.decoder = new OtlpWireDecoder(options.maxSpansPerRequest);
    this.server = new grpcApi.Server({ "grpc.max_receive_message_length": options.maxRequestBytes, interceptors: [countGrpcJsRefusals(REJECT_SOURCE, options.rejects)] });
    this.server.addService(traceServiceDefinition(), { Export: this.handleExport.bind(this) });
  }

  start(): Promise<number> {
    const { host, port } = this.options;
    const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpcApi.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(new Error(`OTLP gRPC receiver cannot listen on ${address}: ${listenFailureReason(error)}`, { cause: error }));
        else resolve(boundPort);
      });
    });
  }

  /** Unary calls are short: finish those in flight, then close. */
  async stop(): Promise<void> {
    this.isStopping = true;
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private handleExport(call: ServerUnaryCall<Buffer, Uint8Array>, respond: sendUnaryData<Uint8Array>): void {
    const { rejects } = this.options;
    if (this.isStopping) {
      respond({ code: grpcApi.status.UNAVAILABLE, details: "meshsight collector is shutting down; retry" });
      return;
    }
    let spans;
    try {
      spans = this.decoder.decode(call.request);
    } catch (error) {
      const isDecodeError = error instanceof OtlpDecodeError;
      rejects.reject(REJECT_SOURCE, isDecodeError ? "malformed-request" : "decode-failed", 1, (error as Error).message);
      if (!isDecodeError) this.options.logger.error({ err: error }, "OTLP decode failed unexpectedly");
      respond({ code: grpcApi.status.INVALID_ARGUMENT, details: (error as Error).message });
      return;
    }
    const result = this.options.ingest.ingest("otlp", spans);
    if (result.outcome === "overloaded") {
      // RESOURCE_EXHAUSTED is retryable for OTLP exporters only with RetryInfo attached (OTLP spec, "Failures").
      const metadata = new grpcApi.Metadata();
      metadata.set(STATUS_DETAILS_KEY, Buffer.from(encodeRpcStatus(grpcApi.status.RESOURCE_EXHAUSTED, result.message, RETRY_AFTER_SECONDS)));
      respond({ code: grpcApi.status.RESOURCE_EXHAUSTED, details: result.message, metadata });
      return;
    }
    const answer = encodeExportResponse(result.rejected, result.rejectMessage);
    const { ingest } = this.options;
    if (ingest.durable === undefined) {
      respond(null, answer);
      return;
    }
    // Acknowledged means durable: with the write-ahead buffer on, the answer waits for its fsync.
    ingest.durable().then(
      () => respond(null, answer),
      (error: unknown) => respond({ code: grpcApi.status.UNAVAILABLE, details: `meshsight collector could not make the spans durable: ${(error as Error).message}; retry` }),
    );
  }
}
