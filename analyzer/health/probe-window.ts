import type { MetricValues } from "../../core/model/metrics.ts";
import type { ProbeResult } from "../../core/model/probe.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import { keepBusiest, minuteIndexOf, type AnalysisWindow, type EntityWindow } from "./analysis-window.ts";

/** Probe runs of one minute. */
export interface ProbeMinute {
  runs: number;
  failures: number;
  durationSumMs: number;
}

/**
 * Adds probe data to a window: one "probe" entity per case and target, and each probe's runs on the
 * service it checks, so service rules and health see probe_success_rate. The service comes from the
 * case (its `service` field, else a `service` label), else from the target's host when that names a
 * known service (`http://reviews.default.svc.cluster.local:9080/` is reviews.default); otherwise the
 * probe stays in its own scope only.
 */
export async function attachProbes(
  reader: Pick<StorageReader, "probeSeries" | "queryProbeResults">,
  window: AnalysisWindow,
  maxEntities: number,
  maxProbeResults: number,
): Promise<void> {
  const range = { fromMs: window.fromMs, toMs: window.toMs };
  const [points, recent] = await Promise.all([reader.probeSeries({ ...range, resolution: "minute" }), reader.queryProbeResults({ ...range, limit: maxProbeResults })]);
  if (points.length === 0) return;
  const services = new Map(window.entities.service.map((entity) => [entity.service, entity]));
  const declared = declaredServices(recent);
  const probes = new Map<string, EntityWindow>();
  for (const point of points) {
    const index = minuteIndexOf(window, point.timeMs);
    if (index === undefined) continue;
    const key = `${point.probe}\u0000${point.target}`;
    let entity = probes.get(key);
    if (entity === undefined) {
      const service = declared.get(key) ?? serviceOfTarget(point.target, services.keys());
      entity = {
        scope: "probe",
        entity: `${point.probe} on ${point.target}`,
        service,
        labels: { probe: point.probe, target: point.target, ...(service === "" ? {} : { service }) },
        minutes: new Array<MetricValues | undefined>(window.minuteCount).fill(undefined),
        probes: new Array<ProbeMinute | undefined>(window.minuteCount).fill(undefined),
        calls: 0,
      };
      probes.set(key, entity);
    }
    const minute = { runs: point.runs, failures: point.failures, durationSumMs: point.durationSumMs };
    entity.probes[index] = addProbeMinute(entity.probes[index], minute);
    entity.calls += point.runs;
    const serviceEntity = services.get(entity.service);
    if (serviceEntity) serviceEntity.probes[index] = addProbeMinute(serviceEntity.probes[index], minute);
  }
  const all = [...probes.values()];
  window.entities.probe = keepBusiest(all, maxEntities);
  window.skipped.probe = all.length - window.entities.probe.length;
}

function addProbeMinute(existing: ProbeMinute | undefined, minute: ProbeMinute): ProbeMinute {
  if (existing === undefined) return { ...minute };
  return { runs: existing.runs + minute.runs, failures: existing.failures + minute.failures, durationSumMs: existing.durationSumMs + minute.durationSumMs };
}

/** Probe and target -> service, from what the cases declared on their recent results. */
function declaredServices(results: readonly ProbeResult[]): Map<string, string> {
  const services = new Map<string, string>();
  for (const result of results) {
    const service = result.service !== "" ? result.service : (result.labels.service ?? "");
    const key = `${result.probe}\u0000${result.target}`;
    if (service !== "" && !services.has(key)) services.set(key, service);
  }
  return services;
}

/** `reviews.default.svc.cluster.local` and `reviews.default` name reviews.default; a bare `reviews` only when one namespace has it. */
export function serviceOfTarget(target: string, knownServices: Iterable<string>): string {
  const host = hostOf(target);
  if (host === "") return "";
  const labels = host.split(".");
  const known = [...knownServices];
  const qualified = labels.length >= 2 ? `${labels[0]}.${labels[1]}` : "";
  if (qualified !== "" && known.includes(qualified)) return qualified;
  const byName = known.filter((service) => service.split(".")[0] === labels[0]);
  return byName.length === 1 ? (byName[0] as string) : "";
}

function hostOf(target: string): string {
  if (URL.canParse(target) && target.includes("://")) return new URL(target).hostname;
  // host:port or a bare host (tcp, dns, grpc kinds)
  const match = /^\[?([A-Za-z0-9.-]+)\]?(?::\d+)?$/.exec(target.trim());
  return match?.[1] ?? "";
}
