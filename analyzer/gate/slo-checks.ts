import { deriveMetric, sumMetricValues, type MetricValues } from "../../core/model/metrics.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import { rounded, type GateCheckResult } from "./gate-check.ts";
import { windowMsOf, type GateDefinition } from "./gate-definition.ts";

export type SloReader = Pick<StorageReader, "queryMetrics" | "listEntities">;

/** Instances last written this long before the window still count (their entity row may predate it). */
const ENTITY_LOOKBACK_MS = 24 * 3_600_000;
const MAX_INSTANCES = 10_000;

interface Traffic {
  canary: MetricValues;
  /** Undefined when the gate has no version to compare. */
  stable: MetricValues | undefined;
  canaryLabel: string;
  stableLabel: string;
}

/**
 * The SLO checks of a gate over its window, from server-side metrics in storage: traffic first (too few
 * calls is "no-data", never a guess), then SLA, p99 and the error rate compared with the stable version.
 */
export async function evaluateSlo(reader: SloReader, gate: GateDefinition, nowMs: number): Promise<GateCheckResult[]> {
  const windowMs = windowMsOf(gate);
  const fromMs = nowMs - windowMs;
  const traffic = await readTraffic(reader, gate, fromMs, nowMs);
  const { canary, canaryLabel } = traffic;
  const minutes = windowMs / 60_000;
  const trafficCheck: GateCheckResult = {
    name: "traffic",
    status: canary.calls >= gate.minCalls ? "ok" : "no-data",
    observed: canary.calls,
    expected: `>= ${gate.minCalls} calls in ${gate.window}`,
    message: canary.calls >= gate.minCalls ? `${canaryLabel} served ${canary.calls} calls in the last ${gate.window}` : `${canaryLabel} served ${canary.calls} calls in the last ${gate.window}, fewer than the ${gate.minCalls} needed to judge it; retry later`,
  };
  if (trafficCheck.status !== "ok") return [trafficCheck];
  const checks: GateCheckResult[] = [trafficCheck];
  const { minSla, maxP99Ms, maxErrorRateIncrease } = gate.slo;
  if (minSla !== undefined) {
    const sla = rounded(deriveMetric(canary, "sla", minutes));
    const isMet = sla >= minSla;
    checks.push({ name: "sla", status: isMet ? "ok" : "fail", observed: sla, expected: `>= ${minSla} %`, message: `${canaryLabel} answered ${sla} % of ${canary.calls} calls successfully${isMet ? "" : `, below ${minSla} %`}` });
  }
  if (maxP99Ms !== undefined) {
    const p99 = rounded(deriveMetric(canary, "p99", minutes));
    const isMet = p99 <= maxP99Ms;
    checks.push({ name: "p99", status: isMet ? "ok" : "fail", observed: p99, expected: `<= ${maxP99Ms} ms`, message: `${canaryLabel} p99 latency is ${p99} ms${isMet ? "" : `, above ${maxP99Ms} ms`}` });
  }
  if (maxErrorRateIncrease !== undefined) checks.push(compareErrorRates(traffic, gate, maxErrorRateIncrease));
  return checks;
}

function compareErrorRates(traffic: Traffic, gate: GateDefinition, maxIncrease: number): GateCheckResult {
  const { canary, stable, canaryLabel, stableLabel } = traffic;
  const expected = `<= stable + ${maxIncrease} percentage points`;
  if (!stable || stable.calls < gate.minCalls) {
    const calls = stable?.calls ?? 0;
    return { name: "error-rate-vs-stable", status: "no-data", observed: null, expected, message: `${stableLabel} served ${calls} calls in the last ${gate.window}, too few to compare with; retry later` };
  }
  const canaryRate = errorRate(canary);
  const stableRate = errorRate(stable);
  const increase = rounded(canaryRate - stableRate);
  const isMet = increase <= maxIncrease;
  return {
    name: "error-rate-vs-stable",
    status: isMet ? "ok" : "fail",
    observed: increase,
    expected,
    message: `${canaryLabel} error rate ${rounded(canaryRate)} % vs ${stableLabel} ${rounded(stableRate)} % (${increase >= 0 ? "+" : ""}${increase} points${isMet ? "" : `, more than ${maxIncrease}`})`,
  };
}

function errorRate(values: MetricValues): number {
  return values.calls > 0 ? (values.errors / values.calls) * 100 : 0;
}

async function readTraffic(reader: SloReader, gate: GateDefinition, fromMs: number, toMs: number): Promise<Traffic> {
  const { service, version, stableVersion, versionAttribute } = gate;
  if (version === undefined) {
    const rows = await reader.queryMetrics({ scope: "service", service, fromMs, toMs, resolution: "minute", groupByTime: false });
    return { canary: sumMetricValues(rows), stable: undefined, canaryLabel: service, stableLabel: "" };
  }
  const [instances, rows] = await Promise.all([
    reader.listEntities({ kind: "instance", service, seenSinceMs: fromMs - ENTITY_LOOKBACK_MS, limit: MAX_INSTANCES }),
    reader.queryMetrics({ scope: "instance", service, fromMs, toMs, resolution: "minute", groupByTime: false }),
  ]);
  const versionOf = new Map(instances.map((instance) => [instance.name, instance.attributes[versionAttribute]]));
  const isStable = (instanceVersion: string | undefined): boolean => (stableVersion === undefined ? instanceVersion !== version : instanceVersion === stableVersion);
  return {
    canary: sumMetricValues(rows.filter((row) => versionOf.get(row.name) === version)),
    stable: sumMetricValues(rows.filter((row) => isStable(versionOf.get(row.name)))),
    canaryLabel: `${service} ${version}`,
    stableLabel: stableVersion === undefined ? `${service} other than ${version}` : `${service} ${stableVersion}`,
  };
}
