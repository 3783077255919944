import type { ProbeOutcome } from "../kinds/kind.ts";
import { SERVING_STATUS_NUMBER } from "../kinds/grpc-health.ts";
import { OUTCOME_METRIC_NAME, PHASE_GAUGES, httpPhaseSeconds, listedPhaseSeconds, outcomeMetricHelp } from "./blackbox-names.ts";

/**
 * The body of a blackbox-exporter `/probe` answer for one run: unlabelled `probe_*` gauges (Prometheus
 * adds `instance` from the scrape config's relabelling), in the text exposition format 0.0.4.
 */
export function renderBlackboxMetrics(kind: string, outcome: ProbeOutcome, durationMs: number): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: Array<[labels: string, value: number]>): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${formatValue(value)}`);
  };
  if (kind === "http") {
    const phases = httpPhaseSeconds(outcome.phases);
    if (phases.length > 0) gauge("probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects", phases.map(([phase, seconds]) => [`{phase="${phase}"}`, seconds]));
  }
  const phaseGauge = PHASE_GAUGES[kind];
  if (phaseGauge) {
    const phases = listedPhaseSeconds(phaseGauge.phases, outcome.phases);
    if (phases.length > 0) gauge(phaseGauge.name, phaseGauge.help, phases.map(([phase, seconds]) => [`{phase="${phase}"}`, seconds]));
  }
  const dnsMs = outcome.phases.dns ?? outcome.phases.resolve;
  if (dnsMs !== undefined) gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds", [["", dnsMs / 1000]]);
  for (const [key, value] of Object.entries(outcome.metrics).sort(([a], [b]) => a.localeCompare(b))) {
    if (!OUTCOME_METRIC_NAME.test(key) || key === "success" || key === "duration_seconds" || key === "dns_lookup_time_seconds") continue;
    gauge(`probe_${key}`, outcomeMetricHelp(key), labelledSamples(key, value));
  }
  // Blackbox sets every serving status to 0 before asking, so a failed call still shows the four (prober/grpc.go).
  if (kind === "grpc" && outcome.metrics.grpc_healthcheck_response === undefined) gauge("probe_grpc_healthcheck_response", outcomeMetricHelp("grpc_healthcheck_response"), labelledSamples("grpc_healthcheck_response", Number.NaN));
  for (const [key, labels] of Object.entries(outcome.info ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (!OUTCOME_METRIC_NAME.test(key)) continue;
    gauge(`probe_${key}`, outcomeMetricHelp(key), [[`{${Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`, 1]]);
  }
  gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds", [["", durationMs / 1000]]);
  gauge("probe_success", "Displays whether or not the probe was a success", [["", outcome.status === "success" ? 1 : 0]]);
  return `${lines.join("\n")}\n`;
}

/**
 * Blackbox puts some values in a label with the sample 1 (prober/tls.go getTLSVersion, prober/grpc.go):
 * `probe_tls_version_info{version="TLS 1.3"} 1`, and `probe_grpc_healthcheck_response{serving_status}`
 * 1 for the status served and 0 for every other status. Outcomes carry them as numbers.
 */
function labelledSamples(key: string, value: number): Array<[labels: string, value: number]> {
  if (key === "tls_version_info") return [[`{version="${value > 0 ? `TLS ${value.toFixed(1)}` : "unknown"}"}`, 1]];
  if (key === "grpc_healthcheck_response") {
    return Object.entries(SERVING_STATUS_NUMBER).map(([status, number]) => [`{serving_status="${status}"}`, number === value ? 1 : 0]);
  }
  return [["", value]];
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** The text format's label value escapes: backslash, double quote and newline. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
