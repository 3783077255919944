// Firing alerts with their root-cause verdict (GET /api/v1/alerts?state=firing, served by the analyzer).
import { formatTime, h, panel, serviceHref, table } from "./dom.js";

/** @param {import("./api.js").RootCause | null} cause */
function rootCauseCell(cause) {
  if (!cause) return h("span", { class: "muted" }, "not determined");
  const where = cause.instance ? `${cause.service} (${cause.instance})` : cause.service;
  return h("span", {}, h("a", { href: serviceHref(cause.service) }, where), h("span", { class: "muted" }, ` ${cause.reason}`));
}

/**
 * @param {import("./api.js").Alert[]} alerts
 * @param {number} maxRows
 */
export function alertsPanel(alerts, maxRows) {
  const rows = [...alerts]
    .sort((a, b) => b.startsAtMs - a.startsAtMs)
    .slice(0, maxRows)
    .map((alert) => [
      h("span", { class: "badge critical" }, alert.rule),
      alert.entity,
      alert.message,
      formatTime(alert.startsAtMs),
      rootCauseCell(alert.rootCause),
    ]);
  const section = panel(`Firing alerts (${alerts.length})`, table(["rule", "entity", "message", "since", "root cause"], rows, "No alerts are firing."));
  section.id = "alerts";
  // Long messages and verdicts wrap inside the card instead of widening it (overview.css).
  section.classList.add("wrapping");
  return section;
}
