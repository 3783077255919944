import * as common from "@grafana/grafana-foundation-sdk/common";
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as statetimeline from "@grafana/grafana-foundation-sdk/statetimeline";
import type { Alert, RootCause } from "../../core/model/alert.ts";
import { MESHSIGHT_API, CLICKHOUSE, dataSourceRef } from "./datasources.ts";
import { DASHBOARD_UID, dashboardUrl, fieldLinks } from "./links.ts";
import { infinityQuery, InfinityQueryBuilder, type InfinityColumn } from "./queries.ts";
import { meshsightDashboard } from "./skeleton.ts";
import { dataSourceVariables } from "./variables.ts";

/**
 * Alerts come from meshsight's API (GET /api/v1/alerts, docs/architecture.md "API contract") through the
 * Infinity data source: storage has no alerts table yet. Selectors are typed against core/model/alert.ts,
 * so a renamed alert field fails the type check instead of silently emptying a column.
 */

type AlertField = Exclude<keyof Alert, "rootCause" | "labels">;
type RootCauseField = `rootCause.${Exclude<keyof RootCause, "evidence">}`;

function column(selector: AlertField | RootCauseField, text: string, type: InfinityColumn["type"] = "string"): InfinityColumn {
  return { selector, text, type };
}

const RANGE_PARAMS = { from: "${__from}", to: "${__to}" };

export const ALERT_COLUMNS: InfinityColumn[] = [
  column("startsAtMs", "started", "timestamp_epoch"),
  column("endsAtMs", "ended", "timestamp_epoch"),
  column("state", "state"),
  column("rule", "rule"),
  column("scope", "scope"),
  column("entity", "entity"),
  column("message", "message"),
  column("rootCause.service", "root cause service"),
  column("rootCause.instance", "root cause instance"),
  column("rootCause.reason", "root cause"),
  column("rootCause.score", "score", "number"),
  column("id", "id"),
];

/** Grafana maps annotation fields by name: time, timeEnd, text, tags. */
export const ALERT_ANNOTATION_COLUMNS: InfinityColumn[] = [
  column("startsAtMs", "time", "timestamp_epoch"),
  column("endsAtMs", "timeEnd", "timestamp_epoch"),
  column("message", "text"),
  column("entity", "tags"),
];

export function alertAnnotation(): { build: () => dashboard.AnnotationQuery } {
  return {
    build: () => ({
      name: "meshsight alerts",
      datasource: dataSourceRef(MESHSIGHT_API),
      enable: true,
      iconColor: "red",
      // Grafana keeps a data source annotation's query in `target`; the SDK types it for the built-in one only.
      target: { limit: 100, matchAny: false, tags: [], ...infinityQuery("/api/v1/alerts", RANGE_PARAMS, ALERT_ANNOTATION_COLUMNS) },
    }),
  };
}

function firingTable(): table.PanelBuilder {
  return new table.PanelBuilder()
    .title("Firing now, with root cause")
    .datasource(dataSourceRef(MESHSIGHT_API))
    .withTarget(new InfinityQueryBuilder(infinityQuery("/api/v1/alerts", { state: "firing" }, ALERT_COLUMNS)))
    .overrideByName("root cause service", [fieldLinks({ title: "Service dashboard", url: dashboardUrl(DASHBOARD_UID.service, { service: "${__value.raw}" }) })])
    .span(24)
    .height(9);
}

function timeline(): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder()
    .title("Timeline")
    .datasource(dataSourceRef(MESHSIGHT_API))
    .withTarget(new InfinityQueryBuilder(infinityQuery("/api/v1/alerts", RANGE_PARAMS, ALERT_COLUMNS)))
    .showValue(common.VisibilityMode.Never)
    .span(24)
    .height(8);
}

function history(): table.PanelBuilder {
  return new table.PanelBuilder()
    .title("All alerts in the time range")
    .datasource(dataSourceRef(MESHSIGHT_API))
    .withTarget(new InfinityQueryBuilder(infinityQuery("/api/v1/alerts", RANGE_PARAMS, ALERT_COLUMNS)))
    .span(24)
    .height(10);
}

export function alertsDashboard(): ReturnType<typeof meshsightDashboard> {
  return meshsightDashboard(DASHBOARD_UID.alerts, "meshsight / Alerts")
    .description("Alerts raised by meshsight's analyzer, with the root-cause verdict and its evidence.")
    .variables(dataSourceVariables(MESHSIGHT_API, CLICKHOUSE))
    .annotation(alertAnnotation())
    .withPanel(firingTable())
    .withPanel(timeline())
    .withPanel(history());
}
