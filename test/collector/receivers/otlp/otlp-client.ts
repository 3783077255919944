/** A raw OTLP client for tests: requests built with protobufjs from the vendored protos, sent over a real gRPC channel. */
import { credentials, makeGenericClientConstructor, type ChannelOptions, type ServiceError } from "@grpc/grpc-js";
import { EXPORT_METHOD_PATH, otlpTypes } from "../../../../collector/receivers/otlp/otlp-protos.ts";

/** A SERVER span of its own trace (ids derived from `index`), overridable field by field. */
export function otlpSpan(index: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: Buffer.from(`${(index + 1).toString(16).padStart(32, "0")}`, "hex"),
    spanId: Buffer.from(`${(index + 1).toString(16).padStart(16, "0")}`, "hex"),
    name: "work",
    kind: 2,
    startTimeUnixNano: BigInt(Date.now()) * 1_000_000n,
    endTimeUnixNano: BigInt(Date.now() + 5) * 1_000_000n,
    ...overrides,
  };
}

/** ExportTraceServiceRequest bytes with `spans` under one resource of service "svc". */
export function otlpRequestBytes(spans: Record<string, unknown>[]): Uint8Array {
  const { request } = otlpTypes();
  const withLongs = spans.map((item) => ({ ...item, startTimeUnixNano: String(item.startTimeUnixNano), endTimeUnixNano: String(item.endTimeUnixNano) }));
  return request.encode(request.fromObject({ resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] }, scopeSpans: [{ spans: withLongs }] }] })).finish();
}

/** `channelOptions`: the client's, e.g. `grpc.default_compression_algorithm` to send the request compressed. */
export function exportOverGrpc(port: number, bytes: Uint8Array, channelOptions: ChannelOptions = {}): Promise<{ error: ServiceError | null; response: Buffer | undefined }> {
  const Client = makeGenericClientConstructor({}, "TraceService");
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), channelOptions);
  return new Promise((resolve) => {
    client.makeUnaryRequest(EXPORT_METHOD_PATH, (value: Buffer) => value, (value: Buffer) => value, Buffer.from(bytes), (error: ServiceError | null, response?: Buffer) => {
      client.close();
      resolve({ error, response });
    });
  });
}
