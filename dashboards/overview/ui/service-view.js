// One service's page (#/service/<name>): its figures, charts of load, SLA and latency percentiles over
// the range, who calls it and whom it calls, its instances and endpoints, and alerts about it.
import { fetchFiringAlerts, fetchServiceEntities, fetchServiceSeries, fetchServices, fetchTopology } from "./api.js";
import { alertsPanel } from "./alerts-panel.js";
import { timeChart } from "./charts.js";
import { formatCount, formatMs, formatPercent, h, panel, serviceHref, table } from "./dom.js";
import { HEALTH_LABELS, healthOf, servicesWithAlerts } from "./health.js";

/** Lists are sorted busiest first and cut here; the API and Grafana have the rest. */
const MAX_ROWS = 50;
const PERCENTILES = ["p50", "p95", "p99"];

/** @param {import("./api.js").EntitySummary[]} entities */
function entityRows(entities) {
  return [...entities]
    .sort((a, b) => b.cpm - a.cpm)
    .slice(0, MAX_ROWS)
    .map((entity) => [entity.name, formatCount(entity.cpmNow), formatCount(entity.cpm), formatPercent(entity.sla), formatMs(entity.p95)]);
}

/**
 * @param {string} label
 * @param {string} value
 */
function tile(label, value) {
  return h("div", { class: "tile" }, h("span", { class: "tile-value" }, value), h("span", { class: "tile-label" }, label));
}

/**
 * Callers and callees from the service's own topology.
 * @param {string} service
 * @param {import("./api.js").Topology} topology
 */
function relationsPanel(service, topology) {
  const relations = topology.edges.filter((edge) => edge.source === service || edge.target === service);
  const rows = relations.map((edge) => {
    const isInbound = edge.target === service;
    const peer = isInbound ? edge.source : edge.target;
    return [isInbound ? "inbound from" : "outbound to", h("a", { href: serviceHref(peer) }, peer), edge.components.join(", "), formatCount(edge.cpmNow), formatCount(edge.cpm), formatPercent(edge.sla), formatMs(edge.p95)];
  });
  return panel("Relations", table(["direction", "peer", "components", "cpm last minute", "cpm range avg", "SLA", "p95"], rows, "No calls to or from this service in this range."));
}

/**
 * @param {string} service
 * @param {import("./api.js").TimeRange} range
 * @param {number} chartWidth
 */
async function chartsPanel(service, range, chartWidth) {
  const [cpm, sla, ...percentiles] = await Promise.all(["cpm", "sla", ...PERCENTILES].map((metric) => fetchServiceSeries(service, metric, range)));
  const charts = [
    timeChart({ title: "Load", unit: "calls per minute", series: [{ label: "cpm", points: cpm ?? [] }], min: 0 }, chartWidth),
    timeChart({ title: "SLA", unit: "%", series: [{ label: "SLA", points: sla ?? [] }], max: 100 }, chartWidth),
    timeChart({ title: "Latency", unit: "ms", series: PERCENTILES.map((label, index) => ({ label, points: percentiles[index] ?? [] })), min: 0 }, chartWidth),
  ];
  const section = panel("Over time", h("div", { class: "charts" }, ...charts.map((chart) => chart.element)));
  section.id = "charts";
  return { element: section, destroy: () => charts.forEach((chart) => chart.destroy()) };
}

/**
 * @param {string} service
 * @param {import("./api.js").TimeRange} range
 * @param {number} pageWidth
 * @returns {Promise<{ element: HTMLElement, destroy: () => void }>}
 */
export async function serviceView(service, range, pageWidth) {
  const chartWidth = Math.max(280, Math.min(560, Math.floor((pageWidth - 80) / 2)));
  const [services, topology, instances, endpoints, alerts, charts] = await Promise.all([
    fetchServices(range),
    fetchTopology(range, service),
    fetchServiceEntities(service, "instances", range),
    fetchServiceEntities(service, "endpoints", range),
    fetchFiringAlerts(),
    chartsPanel(service, range, chartWidth),
  ]);
  const summary = services.find((candidate) => candidate.name === service);
  const ownAlerts = (alerts ?? []).filter((alert) => servicesWithAlerts([alert]).has(service));
  const health = summary ? healthOf(summary, ownAlerts.length > 0) : "idle";
  const element = h(
    "div",
    { class: "service-page", "data-service": service },
    h("h1", {}, h("span", { class: `badge ${health}` }, HEALTH_LABELS[health]), " ", service),
    // A database or a host outside the mesh has no proxy of its own: say whose view the numbers are.
    summary?.measuredBy === "callers" ? h("p", { class: "note measured-by-callers" }, "No proxy of this service reported in this range: its figures are what its callers saw.") : null,
    h(
      "div",
      { class: "tiles" },
      tile("calls last minute", formatCount(summary?.cpmNow)),
      tile("calls per minute, range average", formatCount(summary?.cpm)),
      tile("SLA", formatPercent(summary?.sla)),
      tile("p95", formatMs(summary?.p95)),
      tile("apdex", summary ? summary.apdex.toFixed(2) : "–"),
      tile("errors", formatCount(summary?.errors)),
    ),
    alerts === null || ownAlerts.length === 0 ? null : alertsPanel(ownAlerts, MAX_ROWS),
    charts.element,
    relationsPanel(service, topology),
    panel("Instances", table(["instance", "cpm last minute", "cpm range avg", "SLA", "p95"], entityRows(instances), "No instances reported in this range.")),
    panel("Endpoints", table(["endpoint", "cpm last minute", "cpm range avg", "SLA", "p95"], entityRows(endpoints), "No endpoints reported in this range.")),
  );
  return { element, destroy: charts.destroy };
}
