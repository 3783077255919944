/**
 * What the root-cause search knows about the mesh: who calls whom (relations) and, per service, its
 * calls, errors and p95 in the current window and in its baseline (the window of the same length just
 * before). Four storage queries in all, whatever the number of services.
 */
import { deriveMetric, sumMetricValues, type MetricAggregate, type MetricValues } from "../../core/model/metrics.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import type { QueryBudget } from "./query-budget.ts";

export interface TimeWindow {
  fromMs: number;
  toMs: number;
  minutes: number;
}

export interface WindowStats {
  calls: number;
  errors: number;
  /** errors / calls, 0..1; 0 without calls. */
  errorRate: number;
  /** 0 without calls. */
  p95Ms: number;
  /** true when only callers' proxies reported calls to it (its own proxy logged nothing: a pod down). */
  isSeenOnlyByCallers: boolean;
}

export interface MeshSnapshot {
  current: TimeWindow;
  baseline: TimeWindow;
  /** Callee services per caller, from relations of either window; self-calls left out. */
  callees: ReadonlyMap<string, ReadonlySet<string>>;
  callers: ReadonlyMap<string, ReadonlySet<string>>;
  now: ReadonlyMap<string, WindowStats>;
  before: ReadonlyMap<string, WindowStats>;
}

export const NO_CALLS: Readonly<WindowStats> = Object.freeze({ calls: 0, errors: 0, errorRate: 0, p95Ms: 0, isSeenOnlyByCallers: false });

const MINUTE_MS = 60_000;

export function windowsEndingAt(nowMs: number, windowMinutes: number): { current: TimeWindow; baseline: TimeWindow } {
  const lengthMs = windowMinutes * MINUTE_MS;
  return {
    current: { fromMs: nowMs - lengthMs, toMs: nowMs, minutes: windowMinutes },
    baseline: { fromMs: nowMs - 2 * lengthMs, toMs: nowMs - lengthMs, minutes: windowMinutes },
  };
}

export async function readMeshSnapshot(reader: StorageReader, budget: QueryBudget, nowMs: number, windowMinutes: number): Promise<MeshSnapshot> {
  const { current, baseline } = windowsEndingAt(nowMs, windowMinutes);
  const read = (scope: "service" | "relation", window: TimeWindow): Promise<MetricAggregate[]> =>
    budget.run(`${scope} metrics`, [], () => reader.queryMetrics({ scope, fromMs: window.fromMs, toMs: window.toMs, resolution: "minute", groupByTime: false }));
  const [relationsNow, relationsBefore, servicesNow, servicesBefore] = await Promise.all([
    read("relation", current),
    read("relation", baseline),
    read("service", current),
    read("service", baseline),
  ]);
  const callees = new Map<string, Set<string>>();
  const callers = new Map<string, Set<string>>();
  for (const row of [...relationsNow, ...relationsBefore]) {
    if (row.service === row.name) continue;
    addTo(callees, row.service, row.name);
    addTo(callers, row.name, row.service);
  }
  return { current, baseline, callees, callers, now: statsByService(servicesNow, relationsNow), before: statsByService(servicesBefore, relationsBefore) };
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(value);
  map.set(key, set);
}

/**
 * A service's own proxy (server side) is the best witness of its health; its callers' proxies (client
 * side of each relation to it) are the only witness when it logs nothing, e.g. its pod is down and
 * callers get 503 UF. The worse error rate of the two wins, so neither view can hide a failure.
 */
function statsByService(services: readonly MetricAggregate[], relations: readonly MetricAggregate[]): Map<string, WindowStats> {
  const callerViews = new Map<string, MetricAggregate[]>();
  for (const row of relations) {
    if (row.detectPoint !== "client" || row.service === row.name) continue;
    const rows = callerViews.get(row.name);
    if (rows === undefined) callerViews.set(row.name, [row]);
    else rows.push(row);
  }
  const serverViews = new Map(services.map((row) => [row.service, row]));
  const stats = new Map<string, WindowStats>();
  for (const service of new Set([...serverViews.keys(), ...callerViews.keys()])) {
    const server = serverViews.get(service);
    const rows = callerViews.get(service);
    stats.set(service, combine(server, rows === undefined ? undefined : sumMetricValues(rows)));
  }
  return stats;
}

function combine(server: MetricValues | undefined, callerView: MetricValues | undefined): WindowStats {
  const own = server !== undefined && server.calls > 0 ? toStats(server, false) : undefined;
  const seen = callerView !== undefined && callerView.calls > 0 ? toStats(callerView, own === undefined) : undefined;
  if (own === undefined) return seen ?? NO_CALLS;
  if (seen === undefined || seen.errorRate <= own.errorRate) return own;
  return { ...own, errors: seen.errors, errorRate: seen.errorRate, calls: seen.calls };
}

function toStats(values: MetricValues, isSeenOnlyByCallers: boolean): WindowStats {
  return {
    calls: values.calls,
    errors: values.errors,
    errorRate: values.calls > 0 ? values.errors / values.calls : 0,
    p95Ms: deriveMetric(values, "p95", 1),
    isSeenOnlyByCallers,
  };
}
