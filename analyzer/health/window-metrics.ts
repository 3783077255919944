import { deriveMetric, sumMetricValues, type MetricValues } from "../../core/model/metrics.ts";
import type { RuleMetric } from "../rules/expression.ts";
import type { EntityWindow } from "./analysis-window.ts";
import type { ProbeMinute } from "./probe-window.ts";

/**
 * Reads rule metrics out of an entity's window, per minute or summed over a span of minutes. Missing
 * data is undefined, never 0 or 100: "no calls" must not look like "all calls failed" nor "all fine".
 */

export function metricOfMinute(entity: EntityWindow, index: number, metric: RuleMetric): number | undefined {
  return metricOf(entity, entity.minutes[index], entity.probes[index], metric, 1);
}

/** An entity's last minutes summed once, so several metrics can be read from them without summing again. */
export interface SummedMinutes {
  entity: EntityWindow;
  minutes: number;
  values: MetricValues | undefined;
  probes: ProbeMinute | undefined;
}

/** Sums the last `minutes` minutes of the entity's window (each round does this for every entity). */
export function sumLast(entity: EntityWindow, minutes: number): SummedMinutes {
  const start = Math.max(0, entity.minutes.length - minutes);
  const values: MetricValues[] = [];
  for (let index = start; index < entity.minutes.length; index++) {
    const slot = entity.minutes[index];
    if (slot !== undefined) values.push(slot);
  }
  let probes: ProbeMinute | undefined;
  for (let index = start; index < entity.probes.length; index++) {
    const slot = entity.probes[index];
    if (slot === undefined) continue;
    probes = probes === undefined ? slot : { runs: probes.runs + slot.runs, failures: probes.failures + slot.failures, durationSumMs: probes.durationSumMs + slot.durationSumMs };
  }
  return { entity, minutes, values: values.length === 0 ? undefined : sumMetricValues(values), probes };
}

/** A metric over minutes summed by sumLast (derived from the sums). */
export function metricOfSum(sum: SummedMinutes, metric: RuleMetric): number | undefined {
  return metricOf(sum.entity, sum.values, sum.probes, metric, sum.minutes);
}

/** The metric over the entity's baseline hour; undefined without calls then, or for a probe. */
export function baselineMetric(entity: EntityWindow, metric: RuleMetric, minutes: number): number | undefined {
  if (entity.scope === "probe" || metric === "probe_success_rate") return undefined;
  return metricOf(entity, entity.baseline, undefined, metric, minutes);
}

function metricOf(entity: EntityWindow, values: MetricValues | undefined, probes: ProbeMinute | undefined, metric: RuleMetric, minutes: number): number | undefined {
  if (metric === "probe_success_rate") return probes && probes.runs > 0 ? ((probes.runs - probes.failures) / probes.runs) * 100 : undefined;
  if (entity.scope === "probe") return probes === undefined ? undefined : probeMetric(probes, metric, minutes);
  if (values === undefined || values.calls === 0) return undefined;
  return deriveMetric(values, metric, minutes);
}

/** A probe's runs read as calls: failures are errors, success rate is the SLA. */
function probeMetric(probes: ProbeMinute, metric: RuleMetric, minutes: number): number | undefined {
  if (probes.runs === 0) return undefined;
  switch (metric) {
    case "calls":
      return probes.runs;
    case "errors":
      return probes.failures;
    case "cpm":
      return probes.runs / minutes;
    case "sla":
      return ((probes.runs - probes.failures) / probes.runs) * 100;
    case "latency_avg":
      return probes.durationSumMs / probes.runs;
    default:
      return undefined;
  }
}
