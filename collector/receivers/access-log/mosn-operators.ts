import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import type { LineRejectReason } from "./entry.ts";
import { setRequestId } from "./envoy-operators.ts";
import type { FieldSetter, OperatorSpec } from "./format-compiler.ts";
import { detachedSlice, parseGoDurationMs, parseMosnTimeMs, parseUnsignedInt } from "./field-values.ts";

/**
 * MOSN access-log variables (mosn/mosn `pkg/proxy/var.go`, `pkg/types/variable.go`) mapped to entry fields.
 * MOSN renders durations with Go's `time.Duration.String()` and the start time in the proxy's local zone.
 */

/** `2006/01/02 15:04:05` is 19 characters and contains a space, so the separator search starts after it. */
const MOSN_START_TIME_MIN_WIDTH = 19;

/**
 * MOSN's `response_flag` is a bool (any failure flag set), not Envoy's short codes; a set flag becomes this
 * code so "has a response flag" (an error) keeps its meaning downstream.
 */
export const MOSN_FAILURE_FLAG = "MOSN_FAILURE";

function durationSetter(assign: (entry: AccessLogEntry, ms: number) => void): FieldSetter {
  return (entry, text, start, end) => {
    const ms = parseGoDurationMs(text, start, end);
    if (Number.isNaN(ms)) return "bad_duration";
    assign(entry, ms);
    return null;
  };
}

function integerSetter(assign: (entry: AccessLogEntry, value: number) => void): FieldSetter {
  return (entry, text, start, end) => {
    const value = parseUnsignedInt(text, start, end);
    if (value < 0) return "bad_number";
    assign(entry, value);
    return null;
  };
}

function stringSetter(assign: (entry: AccessLogEntry, value: string) => void): FieldSetter {
  return (entry, text, start, end) => {
    assign(entry, text.slice(start, end));
    return null;
  };
}

/** `Http1`, `Http2`, `HTTP1` are HTTP; MOSN's RPC protocols (bolt, dubbo, tars, ...) are kept as the scheme. */
function setMosnProtocol(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  const value = text.slice(start, end);
  const lower = value.toLowerCase();
  if (lower.startsWith("http")) {
    entry.protocol = "http";
    entry.scheme = "http";
  } else {
    entry.scheme = lower;
  }
  return null;
}

function setResponseFlag(entry: AccessLogEntry, text: string, start: number, end: number): LineRejectReason | null {
  if (text.startsWith("true", start) && end - start === 4) entry.responseFlags = MOSN_FAILURE_FLAG;
  return null;
}

function startTimeSetter(utcOffsetMinutes: number): FieldSetter {
  return (entry, text, start, end) => {
    const ms = parseMosnTimeMs(text, start, end, utcOffsetMinutes);
    if (Number.isNaN(ms)) return "bad_start_time";
    entry.startTimeMs = ms;
    return null;
  };
}

const SKIPPED: OperatorSpec = { setter: null, minWidth: 0 };

function used(setter: FieldSetter, minWidth = 0): OperatorSpec {
  return { setter, minWidth };
}

const MOSN_VARIABLES: ReadonlyMap<string, OperatorSpec> = new Map([
  // Held by caller pairing and samples: copied, not sliced (as field-values.ts's detachedSlice says).
  ["trace_id", used((entry, text, start, end) => ((entry.traceId = detachedSlice(text, start, end)), null))],
  ["bytes_sent", used(integerSetter((entry, value) => (entry.bytesSent = value)))],
  ["bytes_received", used(integerSetter((entry, value) => (entry.bytesReceived = value)))],
  ["protocol", used(setMosnProtocol)],
  ["response_code", used(integerSetter((entry, value) => (entry.responseCode = value)))],
  // Whole request, as in Envoy's %DURATION%: serves as the server-side latency too.
  [
    "duration",
    used(
      durationSetter((entry, ms) => {
        entry.durationMs = ms;
        entry.timeToLastDownstreamTxMs = ms;
      }),
    ),
  ],
  // Request start to response received from upstream: an upper bound of the upstream latency (it includes
  // reading the request), the nearest MOSN has to ALS's upstream rx - upstream tx.
  ["response_received_duration", used(durationSetter((entry, ms) => (entry.upstreamLatencyMs = ms)))],
  ["response_flag", used(setResponseFlag)],
  ["upstream_local_address", used(stringSetter((entry, value) => (entry.upstreamLocalAddress = value)))],
  ["downstream_local_address", used(stringSetter((entry, value) => (entry.downstreamLocalAddress = value)))],
  ["downstream_remote_address", used(stringSetter((entry, value) => (entry.downstreamRemoteAddress = value)))],
  ["upstream_host", used(stringSetter((entry, value) => (entry.upstreamRemoteAddress = value)))],
  ["upstream_cluster", used(stringSetter((entry, value) => (entry.upstreamCluster = value)))],
  ["requested_server_name", used(stringSetter((entry, value) => (entry.requestedServerName = value)))],
  ["request_header_:authority", used(stringSetter((entry, value) => (entry.authority = value)))],
  ["request_header_host", used(stringSetter((entry, value) => (entry.authority = value)))],
  ["request_header_x-request-id", used(setRequestId)],
  ["request_header_user-agent", used(stringSetter((entry, value) => (entry.userAgent = value)))],
  ["request_header_:method", used(stringSetter((entry, value) => (entry.method = value)))],
  ["request_header_:path", used(stringSetter((entry, value) => (entry.path = value)))],
]);

/** Resolver for the format compiler's MOSN dialect; `utcOffsetMinutes` is the zone MOSN's clock ran in. */
export function mosnOperatorResolver(utcOffsetMinutes: number): (token: string) => OperatorSpec {
  const startTime = used(startTimeSetter(utcOffsetMinutes), MOSN_START_TIME_MIN_WIDTH);
  return (token) => {
    const name = token.toLowerCase();
    if (name === "start_time") return startTime;
    return MOSN_VARIABLES.get(name) ?? SKIPPED;
  };
}
