import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import { sumMetricValues, type MetricAggregate, type MetricValues } from "../../core/model/metrics.ts";

/**
 * Whose numbers describe a service: its own proxy's (server side, docs/architecture.md "Dimensions"), or,
 * when it has no proxy that reported (a database, a host outside the mesh such as `httpbin.org`), the sum of
 * what its callers' proxies saw of their calls to it.
 */
export type MeasuredBy = "self" | "callers";

export interface ServiceFigures {
  values: MetricValues;
  measuredBy: MeasuredBy;
}

/**
 * Every service of a range with its figures: those with service rows measure themselves; every other callee
 * of a client-side relation row is measured by its callers; a service seen only calling others (a job, a
 * client pod) served no calls: it is listed with none, so every node of the topology is a service.
 * `UNKNOWN` names callers (or callees) nothing could resolve, many different ones at once, so it is never a
 * service.
 */
export function serviceFigures(serviceRows: readonly MetricAggregate[], relationRows: readonly MetricAggregate[]): Map<string, ServiceFigures> {
  const figures = new Map<string, ServiceFigures>();
  for (const row of serviceRows) {
    if (row.service !== UNKNOWN_SERVICE) figures.set(row.service, { values: row, measuredBy: "self" });
  }
  const callerViews = new Map<string, MetricAggregate[]>();
  for (const row of relationRows) {
    if (row.detectPoint !== "client" || row.name === UNKNOWN_SERVICE || figures.has(row.name)) continue;
    const rows = callerViews.get(row.name);
    if (rows === undefined) callerViews.set(row.name, [row]);
    else rows.push(row);
  }
  for (const [name, rows] of callerViews) figures.set(name, { values: sumMetricValues(rows), measuredBy: "callers" });
  for (const row of relationRows) {
    if (row.service !== UNKNOWN_SERVICE && !figures.has(row.service)) figures.set(row.service, { values: sumMetricValues([]), measuredBy: "self" });
  }
  return figures;
}
