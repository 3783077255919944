import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { DASHBOARD_TAG, meshsightDashboardsLink } from "./links.ts";

/** What every meshsight dashboard shares: tag (for the links dropdown), time range, refresh, links. */
export function meshsightDashboard(uid: string, title: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .tags([DASHBOARD_TAG])
    .editable()
    .timezone("browser")
    .time({ from: "now-1h", to: "now" })
    .refresh("1m")
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(meshsightDashboardsLink());
}
