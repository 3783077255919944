/**
 * Probe runs per service for the current window. A run belongs to a service when its case is bound to
 * it (`service`), when its labels name it (`service` label), or when its target's host is the service's
 * cluster DNS name (`ratings.default`, `ratings.default.svc.cluster.local`): cases written before a
 * binding existed still count.
 */
import type { ProbeResult } from "../../core/model/probe.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import type { TimeWindow } from "./mesh-snapshot.ts";
import type { QueryBudget } from "./query-budget.ts";

export interface ProbeSignal {
  runs: number;
  failures: number;
  /** Newest first. */
  failedRuns: ProbeResult[];
}

export async function readProbeSignals(
  reader: StorageReader,
  budget: QueryBudget,
  window: TimeWindow,
  services: readonly string[],
  limits: { maxProbeResults: number; maxEvidencePerKind: number },
): Promise<Map<string, ProbeSignal>> {
  const results = await budget.run("probe results", [], () => reader.queryProbeResults({ fromMs: window.fromMs, toMs: window.toMs, limit: limits.maxProbeResults }));
  const wanted = new Set(services);
  const signals = new Map<string, ProbeSignal>();
  for (const result of results) {
    const service = serviceOf(result, wanted);
    if (service === undefined) continue;
    const signal = signals.get(service) ?? { runs: 0, failures: 0, failedRuns: [] };
    signal.runs++;
    if (result.status !== "success") {
      signal.failures++;
      if (signal.failedRuns.length < limits.maxEvidencePerKind) signal.failedRuns.push(result);
    }
    signals.set(service, signal);
  }
  return signals;
}

function serviceOf(result: ProbeResult, wanted: ReadonlySet<string>): string | undefined {
  if (wanted.has(result.service)) return result.service;
  const labelled = result.labels["service"];
  if (labelled !== undefined && wanted.has(labelled)) return labelled;
  const host = hostOf(result.target);
  if (wanted.has(host)) return host;
  const clusterSuffix = host.indexOf(".svc");
  return clusterSuffix > 0 && wanted.has(host.slice(0, clusterSuffix)) ? host.slice(0, clusterSuffix) : undefined;
}

/** The host of a URL (`http://h:1/p`) or of a `host:port` target, lower-cased. */
export function hostOf(target: string): string {
  const withoutScheme = target.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const authority = withoutScheme.split(/[/?#]/, 1)[0] ?? "";
  const host = authority.startsWith("[") ? authority.slice(0, authority.indexOf("]") + 1) : (authority.split(":", 1)[0] ?? "");
  return host.replace(/\.$/, "").toLowerCase();
}
