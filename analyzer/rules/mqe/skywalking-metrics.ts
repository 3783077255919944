import { percentileMs, totalCount } from "../../../core/model/histogram.ts";
import type { MetricValues } from "../../../core/model/metrics.ts";
import type { RuleScope } from "../rule.ts";

/**
 * SkyWalking's mesh metric names (oal/core.oal) read from meshsight's per-minute values, in SkyWalking's scales
 * and integer arithmetic: resp_time in ms (a long average), sla and apdex in 10000ths (10000 = 100 % / 1.0), cpm
 * in calls per minute, percentile in ms with the label p = 50, 75, 90, 95, 99. A minute without calls has no value.
 * Relations: meshsight keeps one side per caller-callee pair (the callee's when it reported, else the caller's),
 * so the client_ and server_ names read the same figures.
 */

export interface SkyWalkingMetric {
  scope: Exclude<RuleScope, "probe">;
  /** The value in one minute; `label` is the label value asked for (percentiles), undefined otherwise. */
  read(values: MetricValues, label: string | undefined): number | undefined;
  /** The label values the metric has when a rule names none. */
  labels: readonly string[] | undefined;
}

export const PERCENTILE_LABELS = ["50", "75", "90", "95", "99"] as const;

const respTime = (values: MetricValues): number => Math.floor(values.latencySumMs / values.calls);
const sla = (values: MetricValues): number => Math.floor(((values.calls - values.errors) * 10_000) / values.calls);
const cpm = (values: MetricValues): number => values.calls;
// ApdexMetrics: (satisfied * 10000 + tolerating * 10000 / 2) / total, in long arithmetic.
const apdex = (values: MetricValues): number => Math.floor((values.apdexSatisfied * 10_000 + Math.floor((values.apdexTolerating * 10_000) / 2)) / values.calls);
const percentile = (values: MetricValues, label: string | undefined): number | undefined => {
  if (label === undefined || !(PERCENTILE_LABELS as readonly string[]).includes(label) || totalCount(values.histogram) === 0) return undefined;
  return Math.floor(percentileMs(values.histogram, Number(label) / 100));
};

const plain = (scope: SkyWalkingMetric["scope"], read: (values: MetricValues) => number): SkyWalkingMetric => ({ scope, read: (values) => read(values), labels: undefined });
const percentiles = (scope: SkyWalkingMetric["scope"]): SkyWalkingMetric => ({ scope, read: percentile, labels: PERCENTILE_LABELS });

const METRICS: Readonly<Record<string, SkyWalkingMetric>> = {
  service_resp_time: plain("service", respTime),
  service_sla: plain("service", sla),
  service_cpm: plain("service", cpm),
  service_apdex: plain("service", apdex),
  service_percentile: percentiles("service"),
  service_instance_resp_time: plain("instance", respTime),
  service_instance_sla: plain("instance", sla),
  service_instance_cpm: plain("instance", cpm),
  endpoint_resp_time: plain("endpoint", respTime),
  endpoint_sla: plain("endpoint", sla),
  endpoint_cpm: plain("endpoint", cpm),
  endpoint_percentile: percentiles("endpoint"),
  ...Object.fromEntries(
    ["client", "server"].flatMap((side) => [
      [`service_relation_${side}_cpm`, plain("relation", cpm)],
      [`service_relation_${side}_call_sla`, plain("relation", sla)],
      [`service_relation_${side}_resp_time`, plain("relation", respTime)],
      [`service_relation_${side}_percentile`, percentiles("relation")],
    ]),
  ),
};

/** The metric, or why meshsight does not produce it (the rule then loads inactive). */
export function skyWalkingMetric(name: string): { metric: SkyWalkingMetric } | { reason: string } {
  const metric = METRICS[name];
  if (metric !== undefined) return { metric };
  if (name.startsWith("service_instance_relation_")) return { reason: `meshsight keeps no instance-to-instance relations, so it has no ${name}` };
  if (name.startsWith("endpoint_relation_")) return { reason: `meshsight keeps no endpoint-to-endpoint relations, so it has no ${name}` };
  if (name.includes("_sidecar_internal_")) return { reason: `meshsight does not receive Envoy's internal latencies, so it has no ${name}` };
  return { reason: `meshsight does not produce ${name} (it has ${Object.keys(METRICS).join(", ")})` };
}

/** 9.6/9.7 percentile labels were indexes: `{_='0,1'}` is P50 and P75. */
export function percentileLabelOf(selector: { name: string; value: string }): string | undefined {
  if (selector.name === "p") return selector.value;
  if (selector.name === "_") return PERCENTILE_LABELS[Number(selector.value)];
  return undefined;
}
