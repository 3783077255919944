/**
 * How a ProbeOutcome maps onto blackbox_exporter's metric names (prometheus/blackbox_exporter
 * prober/http.go, dns.go, tls.go), so dashboards and alerts written for it work on meshsight.
 */

/** Outcome phase name -> blackbox `probe_http_duration_seconds{phase}` value. */
export const HTTP_PHASES: Readonly<Record<string, string>> = {
  dns: "resolve",
  resolve: "resolve",
  connect: "connect",
  tls: "tls",
  processing: "processing",
  transfer: "transfer",
};

/** Outcome metric keys become `probe_<key>`; only safe names, and few of them (each is a metric family). */
export const OUTCOME_METRIC_NAME = /^[a-z][a-z0-9_]{0,62}$/;
export const MAX_OUTCOME_METRIC_NAMES = 64;

/** Help text for the outcome metrics blackbox users know; others get a generic line. */
export const OUTCOME_METRIC_HELP: Readonly<Record<string, string>> = {
  http_status_code: "Response HTTP status code",
  http_redirects: "The number of redirects",
  http_content_length: "Length of http content response",
  http_uncompressed_body_length: "Length of uncompressed response body",
  failed_due_to_regex: "Indicates if probe failed due to regex",
  failed_due_to_cel: "Indicates if probe failed due to CEL expression not matching",
  tls_version_info: "Returns the TLS version used or NaN when unknown",
  grpc_status_code: "Response gRPC status code",
  grpc_healthcheck_response: "Response HealthCheck response",
  http_version: "Returns the version of HTTP of the probe response",
  http_ssl: "Indicates if SSL was used for the final redirect",
  ssl_earliest_cert_expiry: "Returns last SSL chain expiry in unixtime",
  ssl_last_chain_expiry_timestamp_seconds: "Returns last SSL chain expiry in timestamp",
  dns_answer_rrs: "Returns number of entries in the answer resource record list",
  dns_authority_rrs: "Returns number of entries in the authority resource record list",
  dns_additional_rrs: "Returns number of entries in the additional resource record list",
  ip_protocol: "Specifies whether probe ip protocol is IP4 or IP6",
  ip_addr_hash: "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
  failed_due_to_bytes: "Indicates if probe failed due to bytes",
  dns_query_succeeded: "Displays whether or not the query was executed successfully",
  dns_serial: "Returns the serial number of the zone",
  grpc_ssl: "Indicates if SSL was used for the connection",
  ssl_last_chain_info: "Contains SSL leaf certificate information",
  tls_cipher_info: "Returns the TLS cipher negotiated during handshake",
  expect_info: "Explicit content matched",
};

export function outcomeMetricHelp(key: string): string {
  return OUTCOME_METRIC_HELP[key] ?? `Probe-kind measurement ${key}`;
}

/** The phases of an outcome under blackbox names, in seconds; dns also gives probe_dns_lookup_time_seconds. */
export function httpPhaseSeconds(phases: Record<string, number>): Array<[phase: string, seconds: number]> {
  const result: Array<[string, number]> = [];
  for (const [name, ms] of Object.entries(phases)) {
    const phase = HTTP_PHASES[name];
    if (phase && Number.isFinite(ms)) result.push([phase, ms / 1000]);
  }
  return result;
}

/** Kinds whose phases blackbox reports as one `probe_<prober>_duration_seconds{phase}` gauge, and those phases (prober/dns.go, grpc.go). */
export const PHASE_GAUGES: Readonly<Record<string, { name: string; help: string; phases: readonly string[] }>> = {
  dns: { name: "probe_dns_duration_seconds", help: "Duration of DNS request by phase", phases: ["resolve", "connect", "request"] },
  grpc: { name: "probe_grpc_duration_seconds", help: "Duration of gRPC request by phase", phases: ["resolve", "check"] },
};

/** The listed phases an outcome has, in seconds. */
export function listedPhaseSeconds(listed: readonly string[], phases: Record<string, number>): Array<[phase: string, seconds: number]> {
  return listed.flatMap((phase) => {
    const ms = phases[phase];
    return ms !== undefined && Number.isFinite(ms) ? [[phase, ms / 1000] as [string, number]] : [];
  });
}
