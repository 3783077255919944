/**
 * The vendored OTLP trace protos (collector/proto/opentelemetry/README.md), loaded once with protobufjs,
 * for the small responses the receivers encode (and for tests and benchmarks that build requests).
 * Requests are decoded by otlp-wire-decoder.ts, which skips what meshsight does not use.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import protobuf from "protobufjs";

const PROTO_ROOT = fileURLToPath(new URL("../../proto/", import.meta.url));
const SERVICE_FILE = "opentelemetry/proto/collector/trace/v1/trace_service.proto";

export const EXPORT_METHOD_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

export interface OtlpTypes {
  request: protobuf.Type;
  response: protobuf.Type;
}

function loadTypes(): OtlpTypes {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
  root.loadSync(SERVICE_FILE, { keepCase: false });
  return {
    request: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"),
    response: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse"),
  };
}

let loaded: OtlpTypes | undefined;

/** Loaded on first use; the protos are immutable files, so sharing one copy holds no mutable state. */
export function otlpTypes(): OtlpTypes {
  loaded ??= loadTypes();
  return loaded;
}

/** ExportTraceServiceResponse bytes: empty for full success, else with partial_success filled in. */
export function encodeExportResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  const { response } = otlpTypes();
  const body = rejectedSpans === 0 && errorMessage === "" ? {} : { partialSuccess: { rejectedSpans, errorMessage } };
  return response.encode(response.fromObject(body)).finish();
}

/**
 * google.rpc.Status bytes (code = 1, message = 2): the body OTLP/HTTP returns with a 4xx/5xx in protobuf,
 * and gRPC's `grpc-status-details-bin` trailer. With `retryDelaySeconds`, a google.rpc.RetryInfo detail is
 * attached (details = 3, a repeated Any: type_url = 1, value = 2; RetryInfo.retry_delay = 1 is a Duration,
 * seconds = 1): OTLP exporters retry RESOURCE_EXHAUSTED only when it is there (OTLP spec, "Failures").
 */
export function encodeRpcStatus(code: number, message: string, retryDelaySeconds?: number): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 0).int32(code);
  writer.uint32((2 << 3) | 2).string(message);
  if (retryDelaySeconds !== undefined) {
    const duration = protobuf.Writer.create().uint32((1 << 3) | 0).int64(retryDelaySeconds).finish();
    const retryInfo = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(duration).finish();
    const detail = protobuf.Writer.create();
    detail.uint32((1 << 3) | 2).string("type.googleapis.com/google.rpc.RetryInfo");
    detail.uint32((2 << 3) | 2).bytes(retryInfo);
    writer.uint32((3 << 3) | 2).bytes(detail.finish());
  }
  return writer.finish();
}
