import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import type { LineRejectReason } from "./entry.ts";
import type { FieldSetter, OperatorSpec } from "./format-compiler.ts";
import { detachedSlice, parseRfc3339Ms, parseUnsignedDecimal, parseUnsignedInt } from "./field-values.ts";

/**
 * Envoy command operators (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage)
 * mapped to AccessLogEntry fields. Operators that no field needs (ROUTE_NAME, RESPONSE_CODE_DETAILS,
 * X-FORWARDED-FOR, ...) and unknown ones are recognised as "skip": their values are never decoded.
 */

function setStartTime(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  const ms = parseRfc3339Ms(text, start, end);
  if (Number.isNaN(ms)) return "bad_start_time";
  entry.startTimeMs = ms;
  return null;
}

function setProtocol(entry: AccessLogEntry, text: string, start: number): LineRejectReason | null {
  // `HTTP/1.1`, `HTTP/2`, `HTTP/3`; TCP lines print `-`, which never reaches a setter.
  const code = text.charCodeAt(start);
  if (code === 72 || code === 104) entry.protocol = "http";
  return null;
}

function setResponseCode(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  const code = parseUnsignedInt(text, start, end);
  if (code < 0) return "bad_number";
  entry.responseCode = code;
  return null;
}

function setBytesReceived(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  const bytes = parseUnsignedInt(text, start, end);
  if (bytes < 0) return "bad_number";
  entry.bytesReceived = bytes;
  return null;
}

function setBytesSent(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  const bytes = parseUnsignedInt(text, start, end);
  if (bytes < 0) return "bad_number";
  entry.bytesSent = bytes;
  return null;
}

/**
 * Text logs carry no per-phase timings, only %DURATION% (first downstream byte received to last downstream
 * byte sent). For a completed request that IS time-to-last-downstream-tx, the server-side latency, so both
 * fields get it.
 */
function setDuration(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  const ms = parseUnsignedDecimal(text, start, end);
  if (Number.isNaN(ms)) return "bad_duration";
  entry.durationMs = ms;
  entry.timeToLastDownstreamTxMs = ms;
  return null;
}

/**
 * `x-envoy-upstream-service-time` is the time the upstream took to answer as the proxy measured it, the
 * closest text-log stand-in for "last upstream rx byte - first upstream tx byte" (it stops at the response
 * headers, not the last body byte, so long streamed bodies read shorter than ALS would report).
 */
function setUpstreamServiceTime(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  const ms = parseUnsignedDecimal(text, start, end);
  if (Number.isNaN(ms)) return "bad_duration";
  entry.upstreamLatencyMs = ms;
  return null;
}

/** Envoy's docs show `tcp://10.0.2.1:80` for some upstream hosts; the rest of the pipeline expects `ip:port`. */
function withoutTcpScheme(text: string, start: number, end: number): string {
  return text.startsWith("tcp://", start) ? text.slice(start + 6, end) : text.slice(start, end);
}

/**
 * Istio >= 1.23 sets alt_stat_name, so %UPSTREAM_CLUSTER% may carry `;`-delimited extras (istio/istio#54219);
 * the raw cluster name is what comes before.
 */
function setUpstreamCluster(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  // Searched in the field's own slice: `text` may be a whole block of lines, and a search from `start` in it
  // would run on through every line after this one when no `;` follows.
  const field = text.slice(start, end);
  const semicolon = field.indexOf(";");
  entry.upstreamCluster = semicolon < 0 ? field : field.slice(0, semicolon);
  return null;
}

/** W3C `traceparent` = `00-<32 hex trace id>-<16 hex span id>-<flags>`. */
function setTraceParent(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  if (end - start >= 35 && text.charCodeAt(start + 2) === 45) entry.traceId = detachedSlice(text, start + 3, start + 35);
  return null;
}

/** Request and trace ids outlive their line (caller pairing holds them for its window): copied, not sliced. */
export function setRequestId(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  entry.requestId = detachedSlice(text, start, end);
  return null;
}

function setB3TraceId(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  entry.traceId = detachedSlice(text, start, end);
  return null;
}

function stringSetter(assign: (entry: AccessLogEntry, value: string) => void): FieldSetter {
  return (entry, text, start, end) => {
    assign(entry, text.slice(start, end));
    return null;
  };
}

function used(setter: FieldSetter, minWidth = 0): OperatorSpec {
  return { setter, minWidth };
}

const PLAIN_OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map([
  ["START_TIME", used(setStartTime)],
  ["PROTOCOL", used(setProtocol)],
  ["RESPONSE_CODE", used(setResponseCode)],
  // Flags travel with held calls and samples: copied, not sliced (a long flag list would keep its lines alive).
  ["RESPONSE_FLAGS", used((entry, text, start, end) => ((entry.responseFlags = detachedSlice(text, start, end)), null))],
  ["BYTES_RECEIVED", used(setBytesReceived)],
  ["BYTES_SENT", used(setBytesSent)],
  ["DURATION", used(setDuration)],
  ["UPSTREAM_HOST", used((entry, text, start, end) => ((entry.upstreamRemoteAddress = withoutTcpScheme(text, start, end)), null))],
  ["UPSTREAM_REMOTE_ADDRESS", used((entry, text, start, end) => ((entry.upstreamRemoteAddress = withoutTcpScheme(text, start, end)), null))],
  ["UPSTREAM_CLUSTER", used(setUpstreamCluster)],
  ["UPSTREAM_CLUSTER_RAW", used(setUpstreamCluster)],
  ["UPSTREAM_LOCAL_ADDRESS", used(stringSetter((entry, value) => (entry.upstreamLocalAddress = value)))],
  ["DOWNSTREAM_LOCAL_ADDRESS", used(stringSetter((entry, value) => (entry.downstreamLocalAddress = value)))],
  ["DOWNSTREAM_REMOTE_ADDRESS", used(stringSetter((entry, value) => (entry.downstreamRemoteAddress = value)))],
  ["DOWNSTREAM_DIRECT_REMOTE_ADDRESS", used(stringSetter((entry, value) => (entry.downstreamDirectRemoteAddress = value)))],
  ["REQUESTED_SERVER_NAME", used(stringSetter((entry, value) => (entry.requestedServerName = value)))],
  ["DOWNSTREAM_TLS_VERSION", used((entry) => ((entry.tlsMode = entry.tlsMode === "none" ? "tls" : entry.tlsMode), null))],
  ["DOWNSTREAM_PEER_URI_SAN", used(stringSetter((entry, value) => ((entry.tlsMode = "mtls"), (entry.downstreamPeerPrincipal = value))))],
  ["DOWNSTREAM_PEER_SUBJECT", used((entry) => ((entry.tlsMode = "mtls"), null))],
]);

/** Request headers by lower-case name (HTTP/2 pseudo-headers included). */
const REQUEST_HEADERS: ReadonlyMap<string, OperatorSpec> = new Map([
  [":method", used(stringSetter((entry, value) => (entry.method = value)))],
  [":path", used(stringSetter((entry, value) => (entry.path = value)))],
  ["x-envoy-original-path?:path", used(stringSetter((entry, value) => (entry.path = value)))],
  [":authority", used(stringSetter((entry, value) => (entry.authority = value)))],
  ["host", used(stringSetter((entry, value) => (entry.authority = value)))],
  [":scheme", used(stringSetter((entry, value) => (entry.scheme = value)))],
  ["x-forwarded-proto", used(stringSetter((entry, value) => (entry.scheme = value)))],
  ["x-request-id", used(setRequestId)],
  ["user-agent", used(stringSetter((entry, value) => (entry.userAgent = value)))],
  ["x-b3-traceid", used(setB3TraceId)],
  ["traceparent", used(setTraceParent)],
]);

const RESPONSE_HEADERS: ReadonlyMap<string, OperatorSpec> = new Map([["x-envoy-upstream-service-time", used(setUpstreamServiceTime)]]);

const SKIPPED: OperatorSpec = { setter: null, minWidth: 0 };

/**
 * Resolves one operator token (the text between the `%`s). `REQ(x)`/`REQUEST_HEADER(x)` and
 * `RESP(x)`/`RESPONSE_HEADER(x)` are aliases; a `:N` length limit after the parenthesis is ignored, and the
 * argument of START_TIME (a strftime format) is ignored because the value decoder accepts RFC 3339 and epochs.
 */
export function resolveEnvoyOperator(token: string): OperatorSpec {
  const open = token.indexOf("(");
  if (open < 0) return PLAIN_OPERATORS.get(token.replace(/:\d+$/, "").toUpperCase()) ?? SKIPPED;
  const close = token.lastIndexOf(")");
  const name = token.slice(0, open).toUpperCase();
  const argument = token.slice(open + 1, close > open ? close : token.length).toLowerCase();
  if (name === "REQ" || name === "REQUEST_HEADER") return REQUEST_HEADERS.get(argument) ?? SKIPPED;
  if (name === "RESP" || name === "RESPONSE_HEADER") return RESPONSE_HEADERS.get(argument) ?? SKIPPED;
  if (name === "START_TIME") return PLAIN_OPERATORS.get("START_TIME") ?? SKIPPED;
  return SKIPPED;
}
