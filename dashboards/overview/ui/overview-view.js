// The landing view: services with health, the topology graph, firing alerts and probes.
import { fetchFiringAlerts, fetchIngestFreshness, fetchProbes, fetchServices, fetchTopology } from "./api.js";
import { alertsPanel } from "./alerts-panel.js";
import { formatCount, formatMs, formatPercent, formatTime, h, panel, serviceHref, table } from "./dom.js";
import { HEALTH_LABELS, healthOf, servicesWithAlerts } from "./health.js";
import { probesPanel } from "./probes-panel.js";
import { topologyGraph } from "./topology-view.js";

const MAX_ALERT_ROWS = 50;

/**
 * @param {import("./api.js").ServiceSummary[]} services
 * @param {Set<string>} alerted
 * @param {import("./api.js").IngestFreshness | null} freshness
 */
function servicesPanel(services, alerted, freshness) {
  const rows = services.map((service) => {
    const health = healthOf(service, alerted.has(service.name));
    return [
      h("span", { class: `badge ${health}` }, HEALTH_LABELS[health]),
      h("a", { href: serviceHref(service.name), class: "service-link" }, service.name),
      service.layer,
      formatCount(service.cpmNow),
      formatCount(service.cpm),
      formatPercent(service.sla),
      formatMs(service.p95),
      service.apdex.toFixed(2),
    ];
  });
  const section = panel(`Services (${services.length})`, freshnessNote(services, freshness), table(["health", "service", "layer", "cpm last minute", "cpm range avg", "SLA", "p95", "apdex"], rows, "No services yet: point Envoy's access-log service at meshsight (docs/mesh.md)."));
  section.id = "services";
  return section;
}

/**
 * How fresh the figures are: when the newest records arrived (by the server's clock, when this process
 * collects) and the calls of the last complete minute, or a warning that none arrived, so a stopped feed is
 * not mistaken for a quiet mesh behind the range averages.
 * @param {import("./api.js").ServiceSummary[]} services
 * @param {import("./api.js").IngestFreshness | null} freshness
 */
function freshnessNote(services, freshness) {
  if (services.length === 0) return null;
  const received = freshness?.lastReceivedMs == null ? "" : `Data up to ${formatTime(freshness.lastReceivedMs)}, ${Math.max(0, Math.round((freshness.nowMs - freshness.lastReceivedMs) / 1000))} s ago. `;
  // Services, not calls: one request is counted by every service on its path.
  const active = services.filter((service) => service.cpmNow > 0).length;
  return active > 0
    ? h("p", { class: "note freshness" }, `${received}Data is current: ${active} of ${services.length} services had calls in the last complete minute.`)
    : h("p", { class: "note freshness stale" }, `${received}No calls in the last complete minute: the figures below are older (is the mesh still sending access logs?).`);
}

/**
 * @param {import("./api.js").TimeRange} range
 * @returns {Promise<{ element: HTMLElement, destroy: () => void }>}
 */
export async function overviewView(range) {
  const [services, topology, alerts, probes, freshness] = await Promise.all([
    fetchServices(range),
    fetchTopology(range),
    fetchFiringAlerts(),
    fetchProbes().then(probesPanel),
    fetchIngestFreshness(),
  ]);
  const alerted = servicesWithAlerts(alerts ?? []);
  const topologySection = panel("Topology", topologyGraph(topology, alerted));
  topologySection.id = "topology";
  const element = h(
    "div",
    { class: "overview" },
    // No alerts API (404) means no analyzer in this process: hide the panel rather than show an error.
    alerts === null ? null : alertsPanel(alerts, MAX_ALERT_ROWS),
    servicesPanel(services, alerted, freshness),
    topologySection,
    probes,
  );
  return { element, destroy: () => undefined };
}
