import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { CLICKHOUSE } from "./datasources.ts";
import { entityCharts } from "./entity-charts.ts";
import { DASHBOARD_UID } from "./links.ts";
import { clickHouseTable } from "./panels.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { msColumnInRange, scopeFilter } from "./sql.ts";
import { dataSourceVariables, instanceVariable, serviceVariable } from "./variables.ts";

/**
 * Attributes come from entity_attributes, where each key keeps its latest value (a later entity row with
 * fewer attributes never blanks them); the entity row's own JSON is the only source for rows written
 * before that table existed.
 */
export const INSTANCE_ATTRIBUTES_SQL = `
SELECT name AS instance, argMax(layer, last_seen_ms) AS layer,
  (SELECT arrayStringConcat(groupArray(concat(key, '=', latest_value)), ', ') FROM (
    SELECT key, argMax(value, last_seen_ms) AS latest_value FROM entity_attributes
    WHERE kind = 'instance' AND service = '\${service}' AND name = '\${instance}'
    GROUP BY key ORDER BY key)) AS merged_attributes,
  if(merged_attributes = '', argMax(attributes, last_seen_ms), merged_attributes) AS attributes,
  toDateTime(intDiv(max(last_seen_ms), 1000)) AS last_seen
FROM entities
WHERE kind = 'instance' AND service = '\${service}' AND name = '\${instance}'
GROUP BY name`;

export const INSTANCE_ERRORS_SQL = `
SELECT toDateTime(intDiv(time_ms, 1000)) AS time, endpoint, detect_point, peer_service, response_code, response_flags, latency_ms, trace_id
FROM samples
WHERE ${msColumnInRange("time_ms")} AND service = '\${service}' AND instance = '\${instance}' AND is_error = 1
ORDER BY time_ms DESC
LIMIT 100`;

export function instanceDashboard(): dashboard.DashboardBuilder {
  const builder = meshsightDashboard(DASHBOARD_UID.instance, "meshsight / Instance")
    .description("One instance (pod) of a service: its load, SLA, apdex and latency, what meshsight knows about it, its sampled errors.")
    .variables([...dataSourceVariables(CLICKHOUSE), serviceVariable(), instanceVariable()]);
  for (const chart of entityCharts(`${scopeFilter("instance")} AND service = '\${service}' AND name = '\${instance}'`)) builder.withPanel(chart);
  return builder
    .withPanel(clickHouseTable("Instance", INSTANCE_ATTRIBUTES_SQL, { height: 5 }))
    .withPanel(clickHouseTable("Sampled errors", INSTANCE_ERRORS_SQL, { height: 9 }));
}
