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

const INTERVAL_ONLY_FIELDS = ["auto", "auto_min", "auto_count"] as const;
const BUILT_IN_ANNOTATION_FIELDS = ["limit", "matchAny", "tags"] as const;

/**
 * The SDK's model is wider than what Grafana's dashboard schema (@grafana/schema) accepts in two places:
 * it gives every variable the interval variable's auto fields, and types an annotation's target as the
 * built-in Grafana annotation only. Those fields are dropped where they do not apply. Panels get ids.
 */
function toSchemaShape(built: dashboard.Dashboard): dashboard.Dashboard {
  // A JSON round trip, not structuredClone: query objects carry the SDK's marker method, which JSON drops.
  const copy = JSON.parse(JSON.stringify(built)) as dashboard.Dashboard;
  for (const variable of copy.templating.list ?? []) {
    if (String(variable.type) === "interval") continue;
    for (const field of INTERVAL_ONLY_FIELDS) delete variable[field];
  }
  for (const annotation of copy.annotations.list ?? []) {
    if (annotation.builtIn === 1 || annotation.target === undefined) continue;
    const target: Partial<dashboard.AnnotationTarget> = annotation.target;
    for (const field of BUILT_IN_ANNOTATION_FIELDS) delete target[field];
  }
  // Grafana numbers panels without ids on load, differently each time; fixed ids keep panel links
  // (viewPanel=N) and the committed JSON stable.
  let nextId = 1;
  for (const panel of copy.panels ?? []) {
    panel.id = nextId++;
    for (const nested of "panels" in panel ? (panel.panels ?? []) : []) nested.id = nextId++;
  }
  return copy;
}

/** The exact text written to disk, so the drift test compares what generate.ts would write. */
export function renderDashboard(built: dashboard.Dashboard): string {
  return `${JSON.stringify(toSchemaShape(built), null, 2)}\n`;
}
