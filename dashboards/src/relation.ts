import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { CLICKHOUSE } from "./datasources.ts";
import { DASHBOARD_UID } from "./links.ts";
import { clickHouseTable, clickHouseTimeSeries, unitOf } from "./panels.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { BUCKET_MINUTES, RANGE_MINUTES, TIME_BUCKET, scopeFilter, summarize, type DerivedColumn } from "./sql.ts";
import { clickHouseVariable, dataSourceVariables } from "./variables.ts";

const THIS_RELATION = `${scopeFilter("relation")} AND service = '\${source}' AND name = '\${target}'`;

/** Client side (the caller's proxy) against server side (the callee's): the gap is the network and the callee's proxy. */
function sideBySide(column: DerivedColumn): string {
  return summarize({ keys: [TIME_BUCKET, "detect_point"], where: THIS_RELATION, columns: [column], minutes: BUCKET_MINUTES, orderBy: "t, detect_point" });
}

export const RELATION_SUMMARY_SQL = summarize({
  keys: ["detect_point", "component"],
  where: THIS_RELATION,
  columns: ["calls", "errors", "cpm", "sla", "p50", "p95", "p99"],
  minutes: RANGE_MINUTES,
  orderBy: "detect_point, component",
});

export const RELATION_SOURCE_SQL = "SELECT DISTINCT service FROM metrics_minute WHERE scope = 'relation' AND $__timeFilter(time) ORDER BY service";
export const RELATION_TARGET_SQL = "SELECT DISTINCT name FROM metrics_minute WHERE scope = 'relation' AND service = '${source}' AND $__timeFilter(time) ORDER BY name";

export function relationDashboard(): dashboard.DashboardBuilder {
  return meshsightDashboard(DASHBOARD_UID.relation, "meshsight / Relation")
    .description("Calls from one service to another as the caller's proxy (client) and the callee's proxy (server) saw them.")
    .variables([
      ...dataSourceVariables(CLICKHOUSE),
      clickHouseVariable("source", RELATION_SOURCE_SQL, { label: "Source" }),
      clickHouseVariable("target", RELATION_TARGET_SQL, { label: "Target" }),
    ])
    .withPanel(
      clickHouseTable("Client vs server side", RELATION_SUMMARY_SQL, { height: 6 })
        .overrideByName("cpm", [unitOf("reqpm")])
        .overrideByName("sla", [unitOf("percent")])
        .overrideByName("p50", [unitOf("ms")])
        .overrideByName("p95", [unitOf("ms")])
        .overrideByName("p99", [unitOf("ms")]),
    )
    .withPanel(clickHouseTimeSeries("Load by side", sideBySide("cpm"), "reqpm", { width: 8 }))
    .withPanel(clickHouseTimeSeries("SLA by side", sideBySide("sla"), "percent", { width: 8 }))
    .withPanel(clickHouseTimeSeries("p95 by side", sideBySide("p95"), "ms", { width: 8 }));
}
