import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { CLICKHOUSE, PROMETHEUS } from "./datasources.ts";
import { DASHBOARD_UID, dashboardUrl, fieldLinks } from "./links.ts";
import { clickHouseTable, clickHouseTimeSeries, coloredCell, higherIsBetter, prometheusTimeSeries, unitOf } from "./panels.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { msColumnInRange } from "./sql.ts";
import { clickHouseVariable, dataSourceVariables } from "./variables.ts";

/** Probe results (core/storage/clickhouse/sql/006_probe_results.sql): one row per run, phases as parallel arrays. */

const SELECTED = `${msColumnInRange("started_ms")}
  AND $__conditionalAll(probe IN (\${probe}), $probe)
  AND $__conditionalAll(target IN (\${target}), $target)`;
const RUN_BUCKET = "toDateTime(intDiv(intDiv(started_ms, 1000), greatest($__interval_s, 60)) * greatest($__interval_s, 60)) AS t";

export const PROBE_VARIABLE_SQL = "SELECT DISTINCT probe FROM probe_results WHERE $__timeFilter(time) ORDER BY probe";
export const TARGET_VARIABLE_SQL =
  "SELECT DISTINCT target FROM probe_results WHERE $__timeFilter(time) AND $__conditionalAll(probe IN (${probe}), $probe) ORDER BY target";

export const SUCCESS_RATE_SQL = `
SELECT ${RUN_BUCKET}, concat(probe, ' ', target) AS case_target, round(countIf(status = 'success') * 100 / count(), 2) AS success
FROM probe_results WHERE ${SELECTED}
GROUP BY t, case_target ORDER BY t`;

export const PHASES_SQL = `
SELECT ${RUN_BUCKET}, phase, round(avg(phase_value), 2) AS ms
FROM probe_results ARRAY JOIN phase_names AS phase, phase_ms AS phase_value
WHERE ${SELECTED}
GROUP BY t, phase ORDER BY t`;

export const PER_TARGET_SQL = `
SELECT probe, kind, target, service, count() AS runs, countIf(status != 'success') AS failures,
  round(countIf(status = 'success') * 100 / count(), 2) AS success, round(avg(duration_ms), 1) AS avg_ms, round(max(duration_ms), 1) AS max_ms
FROM probe_results WHERE ${SELECTED}
GROUP BY probe, kind, target, service ORDER BY success, probe, target`;

export const FAILURES_SQL = `
SELECT toDateTime(intDiv(started_ms, 1000)) AS started, probe, target, status, attempt, duration_ms, message, run_id
FROM probe_results WHERE ${SELECTED} AND status != 'success'
ORDER BY started_ms DESC LIMIT 100`;

export function probesDashboard(): dashboard.DashboardBuilder {
  return meshsightDashboard(DASHBOARD_UID.probes, "meshsight / Probes")
    .description("Probe cases run by meshsight's prober: success rate, latency phases, per case and target, and the failed runs with their messages.")
    .variables([
      ...dataSourceVariables(CLICKHOUSE, PROMETHEUS),
      clickHouseVariable("probe", PROBE_VARIABLE_SQL, { label: "Probe case", multiWithAll: true }),
      clickHouseVariable("target", TARGET_VARIABLE_SQL, { label: "Target", multiWithAll: true }),
    ])
    .withPanel(clickHouseTimeSeries("Success rate", SUCCESS_RATE_SQL, "percent", { width: 12 }).min(0).max(100))
    .withPanel(clickHouseTimeSeries("Latency by phase (average)", PHASES_SQL, "ms", { width: 12 }))
    .withPanel(
      clickHouseTable("Per case and target", PER_TARGET_SQL, { height: 8 })
        .overrideByName("success", [unitOf("percent"), coloredCell(), { id: "thresholds", value: higherIsBetter(90, 99).build() }])
        .overrideByName("service", [fieldLinks({ title: "Service dashboard", url: dashboardUrl(DASHBOARD_UID.service, { service: "${__value.raw}" }) })])
        .overrideByName("avg_ms", [unitOf("ms")])
        .overrideByName("max_ms", [unitOf("ms")]),
    )
    .withPanel(clickHouseTable("Failed runs", FAILURES_SQL, { height: 9 }).overrideByName("duration_ms", [unitOf("ms")]))
    .withPanel(
      prometheusTimeSeries(
        "probe_success (Prometheus, latest run per target)",
        [{ expr: 'min by (probe, target) (probe_success{probe=~"${probe:regex}", target=~"${target:regex}"})', legend: "{{probe}} {{target}}" }],
        "bool_yes_no",
        { width: 24 },
      ),
    );
}
