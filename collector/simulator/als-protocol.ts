/**
 * Envoy's ALS protocol as a real client sees it: the vendored protos (collector/proto) loaded with
 * `@grpc/proto-loader`, so the simulator encodes genuine StreamAccessLogsMessage bytes with protobufjs,
 * independently of the receiver's hand-written decoder.
 */
import { fileURLToPath } from "node:url";
import { loadSync, type MethodDefinition } from "@grpc/proto-loader";

export type AlsVersion = "v3" | "v2";

/** A StreamAccessLogsMessage in proto-loader's object form (`keepCase`: snake_case field names). */
export type AlsMessageObject = Record<string, unknown>;

export interface AlsProtocol {
  /** HTTP/2 path of `StreamAccessLogs` for this API version. */
  methodPath(version: AlsVersion): string;
  /** Encodes a message with the given version's types (v2 silently drops the fields only v3 has). */
  encode(message: AlsMessageObject, version: AlsVersion): Buffer;
}

const PROTO_ROOT = fileURLToPath(new URL("../proto/", import.meta.url));
const SERVICE_FILES: Record<AlsVersion, string> = {
  v3: "envoy/service/accesslog/v3/als.proto",
  v2: "envoy/service/accesslog/v2/als.proto",
};

/** Loads both API versions; takes ~100 ms, so load once and pass the result around. */
export function loadAlsProtocol(): AlsProtocol {
  const definition = loadSync([SERVICE_FILES.v3, SERVICE_FILES.v2], { includeDirs: [PROTO_ROOT], keepCase: true, enums: String, longs: Number });
  const methods = new Map<AlsVersion, MethodDefinition<object, object>>();
  for (const version of ["v3", "v2"] as const) {
    const service = definition[`envoy.service.accesslog.${version}.AccessLogService`];
    const method = service && "StreamAccessLogs" in service ? service["StreamAccessLogs"] : undefined;
    if (method === undefined) throw new Error(`vendored protos lack envoy.service.accesslog.${version}.AccessLogService`);
    methods.set(version, method);
  }
  const methodOf = (version: AlsVersion): MethodDefinition<object, object> => methods.get(version) as MethodDefinition<object, object>;
  return {
    methodPath: (version) => methodOf(version).path,
    encode: (message, version) => methodOf(version).requestSerialize(message),
  };
}
