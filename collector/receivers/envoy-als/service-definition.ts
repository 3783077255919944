/**
 * Hand-made gRPC service definitions for Envoy's AccessLogService, v3 and v2. The request deserializer
 * returns the raw bytes, so grpc-js does no object conversion and the lazy decoder reads only what
 * meshsight uses (docs/architecture.md, "Performance notes"). Paths: https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/accesslog/v3/als.proto.
 */
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

export const ALS_V3_METHOD_PATH = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs";
export const ALS_V2_METHOD_PATH = "/envoy.service.accesslog.v2.AccessLogService/StreamAccessLogs";

/** `StreamAccessLogsResponse` is an empty message: its encoding is zero bytes. */
export type EmptyResponse = Record<string, never>;
const EMPTY_ENCODING = Buffer.alloc(0);

function streamAccessLogsMethod(path: string): MethodDefinition<Buffer, EmptyResponse> {
  return {
    path,
    requestStream: true,
    responseStream: false,
    requestSerialize: (message: Buffer) => message,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: () => EMPTY_ENCODING,
    responseDeserialize: () => ({}),
    originalName: "streamAccessLogs",
  };
}

export type AlsServiceDefinition = ServiceDefinition<{ StreamAccessLogs: MethodDefinition<Buffer, EmptyResponse> }>;

export function alsServiceDefinition(path: string): AlsServiceDefinition {
  return { StreamAccessLogs: streamAccessLogsMethod(path) };
}
