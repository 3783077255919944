/**
 * `envoy.data.accesslog.v3.ResponseFlags` as Envoy's text short codes, so ALS entries and text access-log
 * lines report the same strings (`UH,UF`). Codes from envoyproxy/envoy `source/common/stream_info/utility.h`;
 * the index is the proto field number, which is also the order Envoy prints them in.
 */
import { type Reader, readSubmessageEnd, readTag, readVarintAsNumber, skipField, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from "../wire/protobuf-reader.ts";

const CODE_BY_FIELD: readonly string[] = [
  "", // 0: no field
  "LH", // 1 failed_local_healthcheck
  "UH", // 2 no_healthy_upstream
  "UT", // 3 upstream_request_timeout
  "LR", // 4 local_reset
  "UR", // 5 upstream_remote_reset
  "UF", // 6 upstream_connection_failure
  "UC", // 7 upstream_connection_termination
  "UO", // 8 upstream_overflow
  "NR", // 9 no_route_found
  "DI", // 10 delay_injected
  "FI", // 11 fault_injected
  "RL", // 12 rate_limited
  "UAEX", // 13 unauthorized_details (a message, present only when the request was denied)
  "RLSE", // 14 rate_limit_service_error
  "DC", // 15 downstream_connection_termination
  "URX", // 16 upstream_retry_limit_exceeded
  "SI", // 17 stream_idle_timeout
  "IH", // 18 invalid_envoy_request_headers
  "DPE", // 19 downstream_protocol_error
  "UMSDR", // 20 upstream_max_stream_duration_reached
  "RFCF", // 21 response_from_cache_filter
  "NFCF", // 22 no_filter_config_found
  "DT", // 23 duration_timeout
  "UPE", // 24 upstream_protocol_error
  "NC", // 25 no_cluster_found
  "OM", // 26 overload_manager
  "DF", // 27 dns_resolution_failure
  "DR", // 28 downstream_remote_reset
];

const UNAUTHORIZED_DETAILS_FIELD = 13;

/** The field number -> code table, exported for encoders (the simulator) and tests. */
export const RESPONSE_FLAG_CODES: ReadonlyMap<number, string> = new Map(CODE_BY_FIELD.map((code, field) => [field, code] as const).filter(([, code]) => code !== ""));

/** Reads a ResponseFlags message (the reader stands on its length) into comma-joined codes, "" when none set. */
export function readResponseFlags(reader: Reader, parentEnd: number): string {
  const end = readSubmessageEnd(reader, parentEnd);
  // Bit per field number; sorting by field keeps Envoy's print order whatever order the wire used.
  let setFields = 0;
  while (reader.pos < end) {
    const tag = readTag(reader);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field < CODE_BY_FIELD.length && field !== UNAUTHORIZED_DETAILS_FIELD && wireType === WIRE_VARINT) {
      if (readVarintAsNumber(reader) !== 0) setFields |= 1 << field;
    } else if (field === UNAUTHORIZED_DETAILS_FIELD && wireType === WIRE_LENGTH_DELIMITED) {
      setFields |= 1 << field;
      skipField(reader, wireType);
    } else {
      skipField(reader, wireType);
    }
  }
  if (setFields === 0) return "";
  let codes = "";
  for (let field = 1; field < CODE_BY_FIELD.length; field++) {
    if ((setFields & (1 << field)) !== 0) codes = codes === "" ? (CODE_BY_FIELD[field] as string) : `${codes},${CODE_BY_FIELD[field]}`;
  }
  return codes;
}
