import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";

/** Stable uids: links between dashboards and provisioned bookmarks depend on them. */
export const DASHBOARD_UID = {
  overview: "meshsight-overview",
  service: "meshsight-service",
  instance: "meshsight-instance",
  endpoint: "meshsight-endpoint",
  relation: "meshsight-relation",
  probes: "meshsight-probes",
  alerts: "meshsight-alerts",
  self: "meshsight-self",
} as const;

export const DASHBOARD_TAG = "meshsight";

/** The dropdown of every meshsight dashboard, carrying the time range and the selected variables. */
export function meshsightDashboardsLink(): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder("meshsight")
    .type(dashboard.DashboardLinkType.Dashboards)
    .tags([DASHBOARD_TAG])
    .asDropdown(true)
    .includeVars(true)
    .keepTime(true);
}

/** A URL to another dashboard with variables set, keeping the time range (Grafana data-link syntax). */
export function dashboardUrl(uid: string, variables: Record<string, string>): string {
  const params = Object.entries(variables).map(([name, value]) => `var-${name}=${value}`);
  return `/d/${uid}?${[...params, "${__url_time_range}"].join("&")}`;
}

/** A field data link (Grafana's "links" field property), used in table cells and node graph nodes. */
export function fieldLinks(...links: { title: string; url: string }[]): dashboard.DynamicConfigValue {
  return { id: "links", value: links };
}

/** Opens a trace id in Explore on the Zipkin data source (meshsight serves Zipkin's query API). */
export function zipkinTraceUrl(zipkinUidVariable: string, traceIdExpression: string): string {
  const pane = { datasource: `\${${zipkinUidVariable}}`, queries: [{ refId: "A", queryType: "traceID", query: traceIdExpression }], range: { from: "${__from}", to: "${__to}" } };
  return `/explore?schemaVersion=1&panes=${JSON.stringify({ trace: pane })}`;
}
