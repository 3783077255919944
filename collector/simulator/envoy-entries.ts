/**
 * Builds ALS messages in proto-loader's object form (snake_case, `keepCase`) the way Envoy fills them
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/data/accesslog/v3/accesslog.proto): times as Timestamp/Duration, addresses as SocketAddress,
 * response flags as ResponseFlags booleans, filter state as Any-wrapped Struct.
 */
import type { AlsMessageObject } from "./als-protocol.ts";

/** Envoy's text short code -> ResponseFlags field (envoy/data/accesslog/v3/accesslog.proto). */
const RESPONSE_FLAG_FIELDS: Record<string, string> = {
  LH: "failed_local_healthcheck",
  UH: "no_healthy_upstream",
  UT: "upstream_request_timeout",
  LR: "local_reset",
  UR: "upstream_remote_reset",
  UF: "upstream_connection_failure",
  UC: "upstream_connection_termination",
  UO: "upstream_overflow",
  NR: "no_route_found",
  DI: "delay_injected",
  FI: "fault_injected",
  RL: "rate_limited",
  RLSE: "rate_limit_service_error",
  DC: "downstream_connection_termination",
  URX: "upstream_retry_limit_exceeded",
  SI: "stream_idle_timeout",
  IH: "invalid_envoy_request_headers",
  DPE: "downstream_protocol_error",
  UMSDR: "upstream_max_stream_duration_reached",
  RFCF: "response_from_cache_filter",
  NFCF: "no_filter_config_found",
  DT: "duration_timeout",
  UPE: "upstream_protocol_error",
  NC: "no_cluster_found",
  OM: "overload_manager",
  DF: "dns_resolution_failure",
  DR: "downstream_remote_reset",
};

/** `config.core.v3.RequestMethod` values Envoy logs. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "CONNECT" | "OPTIONS" | "TRACE" | "PATCH";

/** What one entry says, in plain units; `null`/absent means Envoy leaves the field unset. */
export interface EntryTiming {
  startTimeMs: number;
  firstUpstreamTxMs?: number | null;
  lastUpstreamRxMs?: number | null;
  lastDownstreamTxMs?: number | null;
  /** Whole request/connection; v2 has no such field and drops it. */
  durationMs?: number | null;
}

export interface CommonSpec extends EntryTiming {
  /** Raw cluster name; Envoy sets it only when an upstream host was selected. */
  upstreamCluster?: string;
  /** `ip:port` strings. */
  downstreamRemote?: string;
  downstreamDirectRemote?: string;
  downstreamLocal?: string;
  upstreamRemote?: string;
  upstreamLocal?: string;
  responseFlags?: readonly string[];
  routeName?: string;
  /** Downstream TLS: SNI and the SPIFFE URIs of the local and (for mTLS) peer certificates. */
  tls?: { sni: string; localUri: string; peerUri?: string };
  /** Istio >= 1.24 peer metadata (Struct form), as plain JSON. */
  downstreamPeer?: Record<string, unknown>;
  upstreamPeer?: Record<string, unknown>;
  /** Any other filter state to log, already in Any form (e.g. Istio <= 1.23 `wasm.*` FlatBuffers). */
  extraFilterState?: Record<string, { type_url: string; value: Uint8Array }>;
}

export interface HttpEntrySpec extends CommonSpec {
  method: HttpMethod;
  scheme?: string;
  authority: string;
  path: string;
  /** Set when a rewrite happened: the path the caller sent. */
  originalPath?: string;
  requestId?: string;
  userAgent?: string;
  /** Logged request headers (`additional_request_headers_to_log`), e.g. traceparent. */
  requestHeaders?: Record<string, string>;
  requestBodyBytes?: number;
  /** Omit for a request that never got a response. */
  responseCode?: number;
  responseBodyBytes?: number;
  responseCodeDetails?: string;
}

export interface TcpEntrySpec extends CommonSpec {
  receivedBytes: number;
  sentBytes: number;
}

export function toTimestamp(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Durations are non-negative here, so Timestamp's split works for them too. */
export const toDuration = toTimestamp;

export function toAddress(ipPort: string): { socket_address: { address: string; port_value: number } } {
  const colon = ipPort.lastIndexOf(":");
  const host = ipPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { socket_address: { address: host, port_value: Number(ipPort.slice(colon + 1)) } };
}

// protobufjs predefines the well-known types with camelCase field names, whatever `keepCase` says.
type ValueObject =
  | { nullValue: "NULL_VALUE" }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: StructObject }
  | { listValue: { values: ValueObject[] } };
interface StructObject {
  fields: Record<string, ValueObject>;
}

/** Plain JSON -> `google.protobuf.Struct` object form (protobufjs does not apply the JSON mapping itself). */
export function toStruct(json: Record<string, unknown>): StructObject {
  const fields: Record<string, ValueObject> = {};
  for (const [key, value] of Object.entries(json)) fields[key] = toValue(value);
  return { fields };
}

function toValue(value: unknown): ValueObject {
  if (value === null || value === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  if (typeof value === "object") return { structValue: toStruct(value as Record<string, unknown>) };
  throw new Error(`cannot put a ${typeof value} in a Struct`);
}

function responseFlagsObject(codes: readonly string[]): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const code of codes) {
    if (code === "UAEX") flags["unauthorized_details"] = { reason: "EXTERNAL_SERVICE" };
    else {
      const field = RESPONSE_FLAG_FIELDS[code];
      if (field === undefined) throw new Error(`unknown Envoy response flag ${code}`);
      flags[field] = true;
    }
  }
  return flags;
}

function optionalDuration(ms: number | null | undefined): { seconds: number; nanos: number } | undefined {
  return ms === null || ms === undefined ? undefined : toDuration(ms);
}

function optionalAddress(ipPort: string | undefined): ReturnType<typeof toAddress> | undefined {
  return ipPort === undefined || ipPort === "" ? undefined : toAddress(ipPort);
}

function commonProperties(spec: CommonSpec): Record<string, unknown> {
  const filterState: Record<string, { type_url: string; value: Uint8Array }> = { ...spec.extraFilterState };
  return {
    downstream_remote_address: optionalAddress(spec.downstreamRemote),
    downstream_local_address: optionalAddress(spec.downstreamLocal),
    downstream_direct_remote_address: optionalAddress(spec.downstreamDirectRemote ?? spec.downstreamRemote),
    upstream_remote_address: optionalAddress(spec.upstreamRemote),
    upstream_local_address: optionalAddress(spec.upstreamLocal),
    tls_properties: spec.tls && {
      tls_version: "TLSv1_3",
      tls_sni_hostname: spec.tls.sni,
      local_certificate_properties: { subject_alt_name: [{ uri: spec.tls.localUri }] },
      peer_certificate_properties: spec.tls.peerUri === undefined ? undefined : { subject_alt_name: [{ uri: spec.tls.peerUri }] },
    },
    start_time: toTimestamp(spec.startTimeMs),
    time_to_first_upstream_tx_byte: optionalDuration(spec.firstUpstreamTxMs),
    time_to_last_upstream_rx_byte: optionalDuration(spec.lastUpstreamRxMs),
    time_to_last_downstream_tx_byte: optionalDuration(spec.lastDownstreamTxMs),
    duration: optionalDuration(spec.durationMs),
    upstream_cluster: spec.upstreamCluster,
    response_flags: spec.responseFlags && spec.responseFlags.length > 0 ? responseFlagsObject(spec.responseFlags) : undefined,
    route_name: spec.routeName,
    filter_state_objects: {
      ...filterState,
      ...(spec.downstreamPeer && { downstream_peer: structAny(spec.downstreamPeer) }),
      ...(spec.upstreamPeer && { upstream_peer: structAny(spec.upstreamPeer) }),
    },
    access_log_type: "DownstreamEnd",
  };
}

/** An Any wrapping Struct bytes, as Envoy logs Istio's CelState peers; protobufjs' Any wrapper packs the `@type` form. */
function structAny(json: Record<string, unknown>): { "@type": string; fields: Record<string, ValueObject> } {
  return { "@type": "type.googleapis.com/google.protobuf.Struct", ...toStruct(json) };
}

export function httpEntry(spec: HttpEntrySpec): Record<string, unknown> {
  return {
    common_properties: commonProperties(spec),
    protocol_version: "HTTP11",
    request: {
      request_method: spec.method,
      scheme: spec.scheme ?? "http",
      authority: spec.authority,
      path: spec.path,
      original_path: spec.originalPath,
      user_agent: spec.userAgent,
      request_id: spec.requestId,
      request_headers_bytes: 320,
      request_body_bytes: spec.requestBodyBytes ?? 0,
      request_headers: spec.requestHeaders,
    },
    response: {
      response_code: spec.responseCode === undefined ? undefined : { value: spec.responseCode },
      response_headers_bytes: 180,
      response_body_bytes: spec.responseBodyBytes ?? 0,
      response_code_details: spec.responseCodeDetails ?? (spec.responseCode === undefined ? undefined : "via_upstream"),
    },
  };
}

export function tcpEntry(spec: TcpEntrySpec): Record<string, unknown> {
  return {
    common_properties: { ...commonProperties(spec), access_log_type: "TcpConnectionEnd" },
    connection_properties: { received_bytes: spec.receivedBytes, sent_bytes: spec.sentBytes },
  };
}

/** `identifier` of a stream's first message: the Envoy node and the configured log name. */
export function identifier(node: { id: string; cluster: string; metadata: Record<string, unknown> }, logName: string): Record<string, unknown> {
  return { node: { id: node.id, cluster: node.cluster, metadata: toStruct(node.metadata), user_agent_name: "envoy" }, log_name: logName };
}

export function streamMessage(parts: { identifier?: Record<string, unknown>; http?: readonly Record<string, unknown>[]; tcp?: readonly Record<string, unknown>[] }): AlsMessageObject {
  const message: AlsMessageObject = {};
  if (parts.identifier) message["identifier"] = parts.identifier;
  if (parts.http && parts.http.length > 0) message["http_logs"] = { log_entry: parts.http };
  else if (parts.tcp && parts.tcp.length > 0) message["tcp_logs"] = { log_entry: parts.tcp };
  return message;
}
