import type { LineParser } from "./entry.ts";
import { resolveEnvoyOperator } from "./envoy-operators.ts";
import { compileFormat, FirstMatchParser } from "./format-compiler.ts";
import { IstioJsonParser } from "./json-format.ts";
import { mosnOperatorResolver } from "./mosn-operators.ts";

/** Envoy's default format (envoyproxy/envoy substitution_format_utility.cc). */
export const ENVOY_DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/**
 * Istio's `EnvoyTextLogFormat` from 1.23 (istio/istio pilot/pkg/model/telemetry_logging.go). 1.9–1.22 print
 * %UPSTREAM_CLUSTER% in the same place, which parses identically (the cluster setter drops alt_stat_name
 * extras after `;`).
 */
export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Istio before 1.9: the same string without RESPONSE_CODE_DETAILS and CONNECTION_TERMINATION_DETAILS. */
export const ISTIO_PRE_1_9_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** MOSN's `DefaultAccessLogFormat` since mosn#2107 (2022-08-11); note the double space after %trace_id%. */
export const MOSN_DEFAULT_FORMAT =
  "%start_time% %trace_id%  %connection_id% %upstream_connection_id% %request_received_duration% %response_received_duration% %bytes_sent% %bytes_received% %protocol% %response_code% %duration% %response_flag% %response_code% %upstream_local_address% %downstream_local_address% %downstream_remote_address% %upstream_host%";

/** MOSN's default before 2022: no trace and connection ids. */
export const MOSN_PRE_2022_FORMAT =
  "%start_time% %request_received_duration% %response_received_duration% %bytes_sent% %bytes_received% %protocol% %response_code% %duration% %response_flag% %response_code% %upstream_local_address% %downstream_local_address% %downstream_remote_address% %upstream_host%";

export interface LineFormatOptions {
  /** Receive time, used as the start time by custom formats without %START_TIME%. */
  now?: () => number;
  /** Minutes east of UTC that MOSN's clock ran in (MOSN prints local time without a zone); default 0 (UTC). */
  mosnUtcOffsetMinutes?: number;
}

/** The format names accepted by `createLineParser`, besides `custom:<Envoy format string>` and `mosn:<MOSN format string>`. */
export const BUILT_IN_FORMATS = ["envoy", "istio", "json", "mosn"] as const;

/**
 * Builds the parser for a source's `format` setting: `envoy`, `istio` (current, 1.9–1.22 and pre-1.9 lines
 * alike), `json` (Istio's JSON encoding), `mosn` (current and pre-2022 defaults), `custom:<Envoy format>`
 * or `mosn:<MOSN format>`. Throws on an unknown name or an unusable format string: that is a config error,
 * reported once at start, not per line.
 */
export function createLineParser(format: string, options: LineFormatOptions = {}): LineParser {
  const now = options.now ?? Date.now;
  const envoy = (formatString: string): LineParser =>
    compileFormat(formatString, { dialect: "envoy", resolveOperator: resolveEnvoyOperator, now });
  const mosnResolver = mosnOperatorResolver(options.mosnUtcOffsetMinutes ?? 0);
  const mosn = (formatString: string): LineParser => compileFormat(formatString, { dialect: "mosn", resolveOperator: mosnResolver, now });
  if (format === "envoy") return envoy(ENVOY_DEFAULT_FORMAT);
  if (format === "istio") return new FirstMatchParser([envoy(ISTIO_TEXT_FORMAT), envoy(ISTIO_PRE_1_9_TEXT_FORMAT)]);
  if (format === "json") return new IstioJsonParser();
  if (format === "mosn") return new FirstMatchParser([mosn(MOSN_DEFAULT_FORMAT), mosn(MOSN_PRE_2022_FORMAT)]);
  if (format.startsWith("custom:")) return envoy(format.slice("custom:".length));
  if (format.startsWith("mosn:")) return mosn(format.slice("mosn:".length));
  throw new Error(`unknown access-log format ${JSON.stringify(format)}: use ${BUILT_IN_FORMATS.join(", ")}, custom:<format> or mosn:<format>`);
}
