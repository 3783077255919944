import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { PROMETHEUS, dataSourceRef } from "./datasources.ts";
import { DASHBOARD_UID } from "./links.ts";
import { prometheusTimeSeries, row } from "./panels.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { dataSourceVariables } from "./variables.ts";

/** meshsight's own /metrics (core/telemetry, collector, prober), scraped by deploy/prometheus/prometheus.yml. */

const JOB = 'job=~"$job"';

export function meshsightSelfDashboard(): dashboard.DashboardBuilder {
  return meshsightDashboard(DASHBOARD_UID.self, "meshsight / meshsight itself")
    .description("Is meshsight keeping up? Ingest rates, rejected input by reason, queue and buffer depths, flush latency, memory.")
    .variables([
      ...dataSourceVariables(PROMETHEUS),
      new dashboard.QueryVariableBuilder("job")
        .label("Job")
        .datasource(dataSourceRef(PROMETHEUS))
        .query("label_values(meshsight_build_info, job)")
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true),
    ])
    .withRow(row("Ingest"))
    .withPanel(
      prometheusTimeSeries(
        "Ingest rates",
        [
          { expr: `sum by (type) (rate(meshsight_als_entries_total{${JOB}}[$__rate_interval]))`, legend: "ALS {{type}} entries/s" },
          { expr: `sum by (protocol) (rate(meshsight_spans_received_total{${JOB}}[$__rate_interval]))`, legend: "spans/s {{protocol}}" },
          { expr: `sum(rate(meshsight_pipeline_calls_total{${JOB}}[$__rate_interval]))`, legend: "calls aggregated/s" },
        ],
        "ops",
      ),
    )
    .withPanel(
      prometheusTimeSeries(
        "Rejected input by reason",
        [{ expr: `sum by (source, reason) (rate(meshsight_rejected_total{${JOB}}[$__rate_interval]))`, legend: "{{source}} {{reason}}" }],
        "ops",
      ),
    )
    .withRow(row("Queues and buffers"))
    .withPanel(
      prometheusTimeSeries(
        "Queue depths",
        [
          { expr: `sum(meshsight_flush_pending_rows{${JOB}})`, legend: "rows waiting for storage" },
          { expr: `sum(meshsight_aggregate_open_entity_minutes{${JOB}})`, legend: "open entity-minutes" },
          { expr: `sum(meshsight_trace_buffered_spans{${JOB}})`, legend: "spans awaiting sampling" },
          { expr: `sum(meshsight_als_streams{${JOB}})`, legend: "open ALS streams" },
        ],
        "short",
      ),
    )
    .withPanel(
      prometheusTimeSeries(
        "Backpressure and failures",
        [
          { expr: `sum(rate(meshsight_pipeline_refused_batches_total{${JOB}}[$__rate_interval]))`, legend: "refused batches/s" },
          { expr: `sum(rate(meshsight_flush_failures_total{${JOB}}[$__rate_interval]))`, legend: "failed storage writes/s" },
          { expr: `sum by (reason) (rate(meshsight_probe_results_dropped_total{${JOB}}[$__rate_interval]))`, legend: "probe results dropped/s {{reason}}" },
        ],
        "ops",
      ),
    )
    .withRow(row("Storage and process"))
    .withPanel(
      prometheusTimeSeries(
        "Flush latency",
        [
          { expr: `histogram_quantile(0.5, sum by (le) (rate(meshsight_flush_duration_seconds_bucket{${JOB}}[$__rate_interval])))`, legend: "p50" },
          { expr: `histogram_quantile(0.99, sum by (le) (rate(meshsight_flush_duration_seconds_bucket{${JOB}}[$__rate_interval])))`, legend: "p99" },
        ],
        "s",
        { width: 8 },
      ),
    )
    .withPanel(
      prometheusTimeSeries(
        "Rows written by kind",
        [{ expr: `sum by (kind) (rate(meshsight_flush_rows_written_total{${JOB}}[$__rate_interval]))`, legend: "{{kind}}" }],
        "ops",
        { width: 8 },
      ),
    )
    .withPanel(
      prometheusTimeSeries(
        "Memory",
        [
          { expr: `process_resident_memory_bytes{${JOB}}`, legend: "RSS {{instance}}" },
          { expr: `nodejs_heap_size_used_bytes{${JOB}}`, legend: "heap used {{instance}}" },
        ],
        "bytes",
        { width: 8 },
      ),
    );
}
