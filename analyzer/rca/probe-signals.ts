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
  /** Per probe case that passed in the window and fails now: when its failing began (its first failed run since the last success). */
  failingSince: Map<string, number>;
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
  const runsByCase = new Map<string, { service: string; runs: ProbeResult[] }>();
  for (const result of results) {
    const service = serviceOf(result, wanted);
    if (service === undefined) continue;
    const probeCase = runsByCase.get(result.probe) ?? { service, runs: [] };
    probeCase.runs.push(result);
    runsByCase.set(result.probe, probeCase);
    const signal = signals.get(service) ?? { runs: 0, failures: 0, failedRuns: [], failingSince: new Map<string, number>() };
    signal.runs++;
    if (result.status !== "success") {
      signal.failures++;
      if (signal.failedRuns.length < limits.maxEvidencePerKind) signal.failedRuns.push(result);
    }
    signals.set(service, signal);
  }
  for (const [probe, { service, runs }] of runsByCase) {
    const onsetMs = failureOnset(runs);
    if (onsetMs !== undefined) signals.get(service)?.failingSince.set(probe, onsetMs);
  }
  return signals;
}

/** The first failed run after the last success, when the newest run failed and a success came before it. */
function failureOnset(runs: readonly ProbeResult[]): number | undefined {
  const ordered = [...runs].sort((a, b) => a.startedMs - b.startedMs);
  const lastSuccess = ordered.findLastIndex((run) => run.status === "success");
  if (lastSuccess < 0 || lastSuccess === ordered.length - 1) return undefined;
  return ordered[lastSuccess + 1]?.startedMs;
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
