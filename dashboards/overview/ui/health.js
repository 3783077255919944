// One health verdict per service for the table colours and the graph: a firing alert about the service
// wins; otherwise the service's own SLA and apdex over the shown range decide.

/** @typedef {"critical" | "warning" | "healthy" | "idle"} Health */

/** Below these the service is failing its users outright. */
const CRITICAL_SLA = 95;
/** Below these users notice: errors or slowness worth a look. */
const WARNING_SLA = 99;
const WARNING_APDEX = 0.85;

export const HEALTH_LABELS = /** @type {Record<Health, string>} */ ({ critical: "critical", warning: "degraded", healthy: "healthy", idle: "no traffic" });

/**
 * @param {{ sla: number, apdex?: number, calls?: number, cpm?: number }} metrics
 * @param {boolean} hasFiringAlert
 * @returns {Health}
 */
export function healthOf(metrics, hasFiringAlert) {
  if (hasFiringAlert) return "critical";
  const hasTraffic = (metrics.calls ?? metrics.cpm ?? 0) > 0;
  if (!hasTraffic) return "idle";
  if (metrics.sla < CRITICAL_SLA) return "critical";
  if (metrics.sla < WARNING_SLA || (metrics.apdex !== undefined && metrics.apdex < WARNING_APDEX)) return "warning";
  return "healthy";
}

/**
 * Services named by firing alerts: the alert's entity (a service, or `service/instance` style names that
 * start with it) and the root cause's service.
 * @param {{ entity: string, rootCause: { service: string } | null }[]} alerts
 * @returns {Set<string>}
 */
export function servicesWithAlerts(alerts) {
  /** @type {Set<string>} */
  const names = new Set();
  for (const alert of alerts) {
    names.add(alert.entity);
    if (alert.rootCause) names.add(alert.rootCause.service);
  }
  return names;
}
