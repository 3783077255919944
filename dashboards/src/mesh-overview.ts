import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as nodegraph from "@grafana/grafana-foundation-sdk/nodegraph";
import { alertAnnotation } from "./alerts.ts";
import { CLICKHOUSE, MESHSIGHT_API, PROMETHEUS, ZIPKIN, dataSourceRef } from "./datasources.ts";
import { DASHBOARD_UID, dashboardUrl, fieldLinks } from "./links.ts";
import { clickHouseTable, coloredCell, higherIsBetter, unitOf } from "./panels.ts";
import { ClickHouseFormat, ClickHouseQueryBuilder } from "./queries.ts";
import { RANGE_MINUTES, scopeFilter, summarize } from "./sql.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { clickHouseVariable, dataSourceVariables, SERVICE_VARIABLE_SQL } from "./variables.ts";

/**
 * Node Graph frames. Grafana's node graph reads fields by name: nodes `id`, `title`, `subTitle`,
 * `mainStat`, `secondaryStat`, `arc__*` (fractions summing to 1); edges `id`, `source`, `target`,
 * `mainStat`, `secondaryStat`. A frame with a `source` field is taken as the edges.
 * Nodes are every end of a relation, so callers that only appear client side (the ingress gateway's
 * callers, UNKNOWN) are drawn too; their server-side metrics come from the service rows when present.
 */
export const TOPOLOGY_NODES_SQL = `
SELECT
  id,
  splitByChar('.', id)[1] AS title,
  if(position(id, '.') > 0, substring(id, position(id, '.') + 1), '') AS subTitle,
  round(node_calls / ${RANGE_MINUTES}, 2) AS mainStat,
  round(if(node_calls = 0, 100, (node_calls - node_errors) * 100 / node_calls), 2) AS secondaryStat,
  if(node_calls = 0, 1, (node_calls - node_errors) / node_calls) AS arc__success,
  if(node_calls = 0, 0, node_errors / node_calls) AS arc__errors
FROM (SELECT arrayJoin([service, name]) AS id FROM metrics_minute WHERE ${scopeFilter("relation")} GROUP BY id)
ANY LEFT JOIN (
  SELECT service AS id, sum(calls) AS node_calls, sum(errors) AS node_errors
  FROM metrics_minute WHERE ${scopeFilter("service")} GROUP BY id
) USING id
ORDER BY id`;

/** One edge per caller and callee; the server side's counts when it reported, else the client side's. */
export const TOPOLOGY_EDGES_SQL = `
SELECT
  concat(service, ' -> ', name) AS id,
  service AS source,
  name AS target,
  round(edge_calls / ${RANGE_MINUTES}, 2) AS mainStat,
  round(if(edge_calls = 0, 100, (edge_calls - edge_errors) * 100 / edge_calls), 2) AS secondaryStat
FROM (
  SELECT service, name,
    if(sumIf(calls, detect_point = 'server') > 0, sumIf(calls, detect_point = 'server'), sumIf(calls, detect_point = 'client')) AS edge_calls,
    if(sumIf(calls, detect_point = 'server') > 0, sumIf(errors, detect_point = 'server'), sumIf(errors, detect_point = 'client')) AS edge_errors
  FROM metrics_minute WHERE ${scopeFilter("relation")} GROUP BY service, name
)
ORDER BY id`;

function topologyPanel(): nodegraph.PanelBuilder {
  return new nodegraph.PanelBuilder()
    .title("Topology")
    .description("Services and their calls in the time range. Node: calls per minute and SLA %; arc: success vs errors.")
    .datasource(dataSourceRef(CLICKHOUSE))
    .withTarget(new ClickHouseQueryBuilder(TOPOLOGY_NODES_SQL, ClickHouseFormat.Table).refId("nodes"))
    .withTarget(new ClickHouseQueryBuilder(TOPOLOGY_EDGES_SQL, ClickHouseFormat.Table).refId("edges"))
    .nodes(
      new nodegraph.NodeOptionsBuilder()
        .mainStatUnit("reqpm")
        .secondaryStatUnit("percent")
        .arcs([
          new nodegraph.ArcOptionBuilder().field("arc__success").color("green"),
          new nodegraph.ArcOptionBuilder().field("arc__errors").color("red"),
        ]),
    )
    .edges(new nodegraph.EdgeOptionsBuilder().mainStatUnit("reqpm").secondaryStatUnit("percent"))
    .overrideByName("id", [fieldLinks({ title: "Service dashboard", url: dashboardUrl(DASHBOARD_UID.service, { service: "${__value.raw}" }) })])
    .span(24)
    .height(14);
}

export const SERVICES_TABLE_SQL = summarize({
  keys: ["service"],
  where: `${scopeFilter("service")} AND $__conditionalAll(service IN (\${service}), $service)`,
  columns: ["cpm", "sla", "p95", "apdex", "health"],
  minutes: RANGE_MINUTES,
  orderBy: "health, service",
});

function servicesTable(): ReturnType<typeof clickHouseTable> {
  return clickHouseTable("Services", SERVICES_TABLE_SQL, { height: 9 })
    .overrideByName("service", [fieldLinks({ title: "Service dashboard", url: dashboardUrl(DASHBOARD_UID.service, { service: "${__value.raw}" }) })])
    .overrideByName("cpm", [unitOf("reqpm")])
    .overrideByName("p95", [unitOf("ms")])
    .overrideByName("sla", [unitOf("percent"), coloredCell(), { id: "thresholds", value: higherIsBetter(95, 99.5).build() }])
    .overrideByName("apdex", [coloredCell(), { id: "thresholds", value: higherIsBetter(0.7, 0.9).build() }])
    .overrideByName("health", [unitOf("percentunit"), coloredCell(), { id: "thresholds", value: higherIsBetter(0.7, 0.9).build() }]);
}

export const SLOW_ENDPOINTS_SQL = summarize({
  keys: ["service", "name AS endpoint"],
  where: `${scopeFilter("endpoint")} AND $__conditionalAll(service IN (\${service}), $service)`,
  columns: ["p95", "p99", "cpm"],
  minutes: RANGE_MINUTES,
  orderBy: "p95 DESC, service, endpoint",
  limit: 10,
});

export const FAILING_ENDPOINTS_SQL = summarize({
  keys: ["service", "name AS endpoint"],
  where: `${scopeFilter("endpoint")} AND errors > 0 AND $__conditionalAll(service IN (\${service}), $service)`,
  columns: ["errors", "sla", "cpm"],
  minutes: RANGE_MINUTES,
  orderBy: "errors DESC, service, endpoint",
  limit: 10,
});

function endpointTable(title: string, sql: string): ReturnType<typeof clickHouseTable> {
  return clickHouseTable(title, sql, { width: 12, height: 8 })
    .overrideByName("endpoint", [fieldLinks({ title: "Endpoint dashboard", url: dashboardUrl(DASHBOARD_UID.endpoint, { service: "${__data.fields.service}", endpoint: "${__value.raw}" }) })])
    .overrideByName("p95", [unitOf("ms")])
    .overrideByName("p99", [unitOf("ms")])
    .overrideByName("cpm", [unitOf("reqpm")])
    .overrideByName("sla", [unitOf("percent")]);
}

export function meshOverviewDashboard(): dashboard.DashboardBuilder {
  return meshsightDashboard(DASHBOARD_UID.overview, "meshsight / Mesh overview")
    .description("Every service of the mesh: load, SLA, latency, apdex and health, the topology, the slowest and failing endpoints, and alerts.")
    .variables([
      ...dataSourceVariables(CLICKHOUSE, PROMETHEUS, ZIPKIN, MESHSIGHT_API),
      clickHouseVariable("service", SERVICE_VARIABLE_SQL, { label: "Service", multiWithAll: true }),
    ])
    .annotation(alertAnnotation())
    .withPanel(servicesTable())
    .withPanel(topologyPanel())
    .withPanel(endpointTable("Slowest endpoints (p95)", SLOW_ENDPOINTS_SQL))
    .withPanel(endpointTable("Failing endpoints", FAILING_ENDPOINTS_SQL));
}
