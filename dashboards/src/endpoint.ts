import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { CLICKHOUSE } from "./datasources.ts";
import { entityCharts } from "./entity-charts.ts";
import { DASHBOARD_UID } from "./links.ts";
import { clickHouseTable } from "./panels.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { msColumnInRange, scopeFilter } from "./sql.ts";
import { dataSourceVariables, endpointVariable, serviceVariable } from "./variables.ts";

export const ENDPOINT_SLOWEST_SQL = `
SELECT toDateTime(intDiv(time_ms, 1000)) AS time, instance, response_code, latency_ms, reason, trace_id
FROM samples
WHERE ${msColumnInRange("time_ms")} AND service = '\${service}' AND endpoint = '\${endpoint}' AND detect_point = 'server'
ORDER BY latency_ms DESC
LIMIT 50`;

export function endpointDashboard(): dashboard.DashboardBuilder {
  const builder = meshsightDashboard(DASHBOARD_UID.endpoint, "meshsight / Endpoint")
    .description("One endpoint of a service (METHOD:/path after grouping): load, SLA, apdex, latency, its slowest sampled calls.")
    .variables([...dataSourceVariables(CLICKHOUSE), serviceVariable(), endpointVariable()]);
  for (const chart of entityCharts(`${scopeFilter("endpoint")} AND service = '\${service}' AND name = '\${endpoint}'`)) builder.withPanel(chart);
  return builder.withPanel(clickHouseTable("Slowest sampled calls", ENDPOINT_SLOWEST_SQL, { height: 9 }));
}
