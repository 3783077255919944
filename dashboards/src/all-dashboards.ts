import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { alertsDashboard } from "./alerts.ts";
import { endpointDashboard } from "./endpoint.ts";
import { instanceDashboard } from "./instance.ts";
import { meshOverviewDashboard } from "./mesh-overview.ts";
import { meshsightSelfDashboard } from "./meshsight-self.ts";
import { probesDashboard } from "./probes.ts";
import { relationDashboard } from "./relation.ts";
import { serviceDashboard } from "./service.ts";

/** Every shipped dashboard with the file it is generated into (dashboards/generated/<file>). */
export function allDashboards(): { file: string; dashboard: dashboard.Dashboard }[] {
  return [
    { file: "mesh-overview.json", dashboard: meshOverviewDashboard().build() },
    { file: "service.json", dashboard: serviceDashboard().build() },
    { file: "instance.json", dashboard: instanceDashboard().build() },
    { file: "endpoint.json", dashboard: endpointDashboard().build() },
    { file: "relation.json", dashboard: relationDashboard().build() },
    { file: "probes.json", dashboard: probesDashboard().build() },
    { file: "alerts.json", dashboard: alertsDashboard().build() },
    { file: "meshsight-self.json", dashboard: meshsightSelfDashboard().build() },
  ];
}

/** The exact text written to disk, so the drift test compares what generate.ts would write. */
export function renderDashboard(built: dashboard.Dashboard): string {
  return `${JSON.stringify(built, null, 2)}\n`;
}
