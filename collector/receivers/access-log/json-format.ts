import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { newAccessLogEntry } from "../../../core/model/access-log.ts";
import type { LineParser, LineRejectReason } from "./entry.ts";
import { resolveEnvoyOperator } from "./envoy-operators.ts";
import { takeHttpFromRequestLine, type FieldSetter } from "./format-compiler.ts";

/**
 * Istio's JSON access-log keys (`EnvoyJSONLogFormatIstio`, istio/istio pilot/pkg/model/telemetry_logging.go)
 * and the Envoy operator each key is rendered from; the value is then decoded by that operator's setter, so
 * text and JSON lines share one meaning per field. Keys not listed are ignored.
 */
const ISTIO_JSON_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["start_time", "START_TIME"],
  ["method", "REQ(:METHOD)"],
  ["path", "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)"],
  ["protocol", "PROTOCOL"],
  ["response_code", "RESPONSE_CODE"],
  ["response_flags", "RESPONSE_FLAGS"],
  ["bytes_received", "BYTES_RECEIVED"],
  ["bytes_sent", "BYTES_SENT"],
  ["duration", "DURATION"],
  ["upstream_service_time", "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)"],
  ["user_agent", "REQ(USER-AGENT)"],
  ["request_id", "REQ(X-REQUEST-ID)"],
  ["authority", "REQ(:AUTHORITY)"],
  ["upstream_host", "UPSTREAM_HOST"],
  ["upstream_cluster", "UPSTREAM_CLUSTER_RAW"],
  ["upstream_local_address", "UPSTREAM_LOCAL_ADDRESS"],
  ["downstream_local_address", "DOWNSTREAM_LOCAL_ADDRESS"],
  ["downstream_remote_address", "DOWNSTREAM_REMOTE_ADDRESS"],
  ["requested_server_name", "REQUESTED_SERVER_NAME"],
  ["traceparent", "REQ(TRACEPARENT)"],
  ["trace_id", "REQ(X-B3-TRACEID)"],
];

interface JsonField {
  key: string;
  setter: FieldSetter;
}

const JSON_FIELDS: readonly JsonField[] = ISTIO_JSON_KEYS.flatMap(([key, operator]) => {
  const setter = resolveEnvoyOperator(operator).setter;
  return setter === null ? [] : [{ key, setter }];
});

/**
 * One JSON object per line, keys in any order (Istio emits them unsorted), values as numbers or strings,
 * `"-"` or null for unset.
 */
export class IstioJsonParser implements LineParser {
  parse(text: string, start: number, end: number): AccessLogEntry | LineRejectReason {
    let record: unknown;
    try {
      record = JSON.parse(start === 0 && end === text.length ? text : text.slice(start, end));
    } catch {
      return "malformed_json";
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) return "malformed_json";
    const values = record as Record<string, unknown>;
    const entry = newAccessLogEntry("tcp");
    for (const { key, setter } of JSON_FIELDS) {
      const value = values[key];
      if (isUnset(value)) continue;
      if (typeof value !== "string" && typeof value !== "number") continue;
      const rendered = typeof value === "number" ? String(value) : value;
      const rejected = setter(entry, rendered, 0, rendered.length);
      if (rejected !== null) return rejected;
    }
    if (entry.startTimeMs < 0) return "bad_start_time";
    if (isUnset(values.protocol)) takeHttpFromRequestLine(entry);
    return entry;
  }
}

function isUnset(value: unknown): boolean {
  return value === null || value === undefined || value === "-" || value === "";
}
