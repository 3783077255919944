/**
 * Writes a mesh's minute metrics straight through a StorageWriter, for cases that need exact numbers:
 * per service its calls, errors and latency per minute, split over instances, and relation rows (both
 * detect points) for every edge, the way the collector writes them.
 */
import { newDenseHistogram, recordLatency, toSparse } from "../../../core/model/histogram.ts";
import { sumMetricValues, type MetricKey, type MinuteMetrics } from "../../../core/model/metrics.ts";
import type { StorageWriter } from "../../../core/storage/port.ts";

export const MINUTE_MS = 60_000;

export interface InstanceLoad {
  calls: number;
  errors: number;
  latencyMs: number;
}

/** Per-minute load of one service: one default instance, or the instances given. */
export type ServiceLoad = InstanceLoad | { instances: Record<string, InstanceLoad> };

export interface MeshWindow {
  /** First minute, epoch ms, minute-aligned. */
  startMs: number;
  minutes: number;
  services: Record<string, ServiceLoad>;
  /** [caller, callee]; the relation carries the callee's calls and errors (its callers see what it serves). */
  edges: readonly (readonly [string, string])[];
  /**
   * Calls per minute and edge that callers' proxies fail (503 UF) without reaching the callee, as when a pod
   * is down: only the client side of the relation records them.
   */
  unansweredCalls?: Record<string, number>;
}

export async function writeMeshWindow(writer: StorageWriter, mesh: MeshWindow): Promise<void> {
  const rows: MinuteMetrics[] = [];
  for (let minute = 0; minute < mesh.minutes; minute++) {
    const timeMs = mesh.startMs + minute * MINUTE_MS;
    for (const [service, load] of Object.entries(mesh.services)) {
      const instanceRows = Object.entries(instancesOf(service, load))
        .filter(([, values]) => values.calls > 0)
        .map(([instance, values]) => row({ scope: "instance", service, name: instance, detectPoint: "", component: "" }, timeMs, values));
      if (instanceRows.length > 0) rows.push(...instanceRows, { scope: "service", service, name: "", detectPoint: "", component: "", timeMs, ...sumMetricValues(instanceRows) });
    }
    for (const [caller, callee] of mesh.edges) {
      const load = mesh.services[callee];
      if (load === undefined) throw new Error(`edge to ${callee}, which has no load`);
      const served = sumMetricValues(Object.values(instancesOf(callee, load)).map((values) => row({ scope: "service", service: callee, name: "", detectPoint: "", component: "" }, timeMs, values)));
      const key = { scope: "relation", service: caller, name: callee, component: "http", timeMs } as const;
      const unanswered = row({ ...key, detectPoint: "client" }, timeMs, { calls: mesh.unansweredCalls?.[callee] ?? 0, errors: mesh.unansweredCalls?.[callee] ?? 0, latencyMs: 1 });
      if (served.calls > 0) rows.push({ ...key, detectPoint: "server", ...served });
      const clientSide = { ...key, detectPoint: "client" as const, ...sumMetricValues([served, unanswered]) };
      if (clientSide.calls > 0) rows.push(clientSide);
    }
  }
  await writer.writeMetrics(rows);
}

export function defaultInstance(service: string): string {
  return `${service.split(".")[0]}-v1-7d6cfb7dfd-5mc96.${service.split(".")[1] ?? "default"}`;
}

function instancesOf(service: string, load: ServiceLoad): Record<string, InstanceLoad> {
  return "instances" in load ? load.instances : { [defaultInstance(service)]: load };
}


/** Calls of one minute, all at `latencyMs`: exact percentiles, and `calls` of them satisfied under 500 ms. */
function row(key: MetricKey, timeMs: number, load: InstanceLoad): MinuteMetrics {
  const histogram = newDenseHistogram();
  for (let i = 0; i < load.calls; i++) recordLatency(histogram, load.latencyMs);
  return {
    ...key,
    timeMs,
    calls: load.calls,
    errors: load.errors,
    latencySumMs: load.calls * load.latencyMs,
    apdexSatisfied: load.latencyMs <= 500 ? load.calls : 0,
    apdexTolerating: load.latencyMs > 500 && load.latencyMs <= 2000 ? load.calls : 0,
    bytesIn: load.calls * 100,
    bytesOut: load.calls * 1000,
    histogram: toSparse(histogram),
  };
}
