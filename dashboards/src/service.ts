import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { CLICKHOUSE, MESHSIGHT_API, PROMETHEUS, ZIPKIN } from "./datasources.ts";
import { entityCharts } from "./entity-charts.ts";
import { DASHBOARD_UID, dashboardUrl, fieldLinks, zipkinTraceUrl } from "./links.ts";
import { clickHouseTable, row, unitOf } from "./panels.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { RANGE_MINUTES, msColumnInRange, scopeFilter, summarize } from "./sql.ts";
import { dataSourceVariables, serviceVariable } from "./variables.ts";

const THIS_SERVICE = "service = '${service}'";

export const TOP_INSTANCES_SQL = summarize({
  keys: ["name AS instance"],
  where: `${scopeFilter("instance")} AND ${THIS_SERVICE}`,
  columns: ["cpm", "sla", "p95", "apdex"],
  minutes: RANGE_MINUTES,
  orderBy: "cpm DESC, instance",
  limit: 20,
});

export const TOP_ENDPOINTS_SQL = summarize({
  keys: ["name AS endpoint"],
  where: `${scopeFilter("endpoint")} AND ${THIS_SERVICE}`,
  columns: ["cpm", "sla", "p95", "apdex"],
  minutes: RANGE_MINUTES,
  orderBy: "cpm DESC, endpoint",
  limit: 20,
});

/** Relations are stored under the caller: inbound ones have this service as `name`, outbound as `service`. */
function relationsSql(direction: "inbound" | "outbound"): string {
  const [peer, self] = direction === "inbound" ? ["service", "name"] : ["name", "service"];
  return summarize({
    keys: [`${peer} AS peer`, "detect_point", "component"],
    where: `${scopeFilter("relation")} AND ${self} = '\${service}'`,
    columns: ["cpm", "sla", "p95"],
    minutes: RANGE_MINUTES,
    orderBy: "peer, detect_point, component",
  });
}
export const INBOUND_SQL = relationsSql("inbound");
export const OUTBOUND_SQL = relationsSql("outbound");

export const ERROR_LOGS_SQL = `
SELECT toDateTime(intDiv(time_ms, 1000)) AS time, instance, endpoint, detect_point, peer_service, response_code, response_flags, latency_ms, trace_id, raw
FROM samples
WHERE ${msColumnInRange("time_ms")} AND ${THIS_SERVICE} AND is_error = 1
ORDER BY time_ms DESC
LIMIT 100`;

function relationTable(title: string, sql: string, direction: "inbound" | "outbound"): ReturnType<typeof clickHouseTable> {
  const ends = direction === "inbound" ? { source: "${__value.raw}", target: "${service}" } : { source: "${service}", target: "${__value.raw}" };
  return clickHouseTable(title, sql, { width: 12, height: 7 })
    .overrideByName("peer", [fieldLinks({ title: "Relation dashboard", url: dashboardUrl(DASHBOARD_UID.relation, ends) })])
    .overrideByName("cpm", [unitOf("reqpm")])
    .overrideByName("sla", [unitOf("percent")])
    .overrideByName("p95", [unitOf("ms")]);
}

export function serviceDashboard(): dashboard.DashboardBuilder {
  const builder = meshsightDashboard(DASHBOARD_UID.service, "meshsight / Service")
    .description("One service: load, SLA, apdex, latency percentiles, its instances and endpoints, who calls it and whom it calls, sampled errors with their traces.")
    .variables([...dataSourceVariables(CLICKHOUSE, PROMETHEUS, ZIPKIN, MESHSIGHT_API), serviceVariable()]);
  for (const chart of entityCharts(`${scopeFilter("service")} AND ${THIS_SERVICE}`)) builder.withPanel(chart);
  return builder
    .withRow(row("Instances and endpoints"))
    .withPanel(
      clickHouseTable("Top instances", TOP_INSTANCES_SQL, { width: 12 })
        .overrideByName("instance", [fieldLinks({ title: "Instance dashboard", url: dashboardUrl(DASHBOARD_UID.instance, { service: "${service}", instance: "${__value.raw}" }) })])
        .overrideByName("p95", [unitOf("ms")]),
    )
    .withPanel(
      clickHouseTable("Top endpoints", TOP_ENDPOINTS_SQL, { width: 12 })
        .overrideByName("endpoint", [fieldLinks({ title: "Endpoint dashboard", url: dashboardUrl(DASHBOARD_UID.endpoint, { service: "${service}", endpoint: "${__value.raw}" }) })])
        .overrideByName("p95", [unitOf("ms")]),
    )
    .withRow(row("Relations"))
    .withPanel(relationTable("Inbound (callers)", INBOUND_SQL, "inbound"))
    .withPanel(relationTable("Outbound (callees)", OUTBOUND_SQL, "outbound"))
    .withRow(row("Sampled errors"))
    .withPanel(
      clickHouseTable("Sampled error logs", ERROR_LOGS_SQL, { height: 10 })
        .overrideByName("trace_id", [fieldLinks({ title: "Open trace (Zipkin)", url: zipkinTraceUrl(ZIPKIN.variable, "${__value.raw}") })])
        .overrideByName("latency_ms", [unitOf("ms")]),
    );
}
