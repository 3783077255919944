import type { RuleScope } from "../rules/rule.ts";
import type { AnalysisWindow, EntityWindow } from "./analysis-window.ts";
import { thresholdsResolver, type HealthSettings, type HealthThresholds } from "./thresholds.ts";
import { metricOfMinute, metricOfSum, sumLast, type SummedMinutes } from "./window-metrics.ts";

export type HealthState = "healthy" | "degraded" | "unhealthy" | "no-data";

/** One entity's verdict and the figures behind it (absent figures had no data). */
export interface EntityHealth {
  scope: RuleScope;
  entity: string;
  service: string;
  state: HealthState;
  /** Why it is not healthy, one line per signal, e.g. "sla 91.2% < 95%". */
  reasons: string[];
  calls: number;
  sla?: number;
  latencyMs?: number;
  apdex?: number;
  probeSuccessRate?: number;
}

const SEVERITY: Record<HealthState, number> = { "no-data": 0, healthy: 1, degraded: 2, unhealthy: 3 };

/** The worse of two states ("no-data" only wins over nothing). */
function worse(a: HealthState, b: HealthState): HealthState {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

const round = (value: number): number => Math.round(value * 100) / 100;

/** Health of every entity in the window from its last `minutes` minutes, with per-service thresholds. */
export function assessHealth(window: AnalysisWindow, settings: HealthSettings, minutes: number): EntityHealth[] {
  const verdicts: EntityHealth[] = [];
  const thresholdsOf = thresholdsResolver(settings);
  for (const entities of Object.values(window.entities)) {
    for (const entity of entities) verdicts.push(assessEntity(entity, thresholdsOf(entity.service), minutes));
  }
  return verdicts;
}

export function assessEntity(entity: EntityWindow, limits: HealthThresholds, minutes: number): EntityHealth {
  // Summed once for every figure below: a round judges every entity of the window.
  const sum = sumLast(entity, minutes);
  const verdict: EntityHealth = { scope: entity.scope, entity: entity.entity, service: entity.service, state: "no-data", reasons: [], calls: metricOfSum(sum, "calls") ?? 0 };
  const sla = metricOfSum(sum, "sla");
  if (sla !== undefined) {
    verdict.sla = round(sla);
    judge(verdict, sla < limits["sla-unhealthy"] ? "unhealthy" : sla < limits["sla-degraded"] ? "degraded" : "healthy", () => `sla ${verdict.sla}% < ${sla < limits["sla-unhealthy"] ? limits["sla-unhealthy"] : limits["sla-degraded"]}%`);
  }
  if (entity.scope !== "probe") assessTraffic(sum, limits, verdict);
  const probeSuccess = metricOfSum(sum, "probe_success_rate");
  if (probeSuccess !== undefined) {
    verdict.probeSuccessRate = round(probeSuccess);
    const state = probeSuccess < limits["probe-success-unhealthy"] ? "unhealthy" : probeSuccess < limits["probe-success-degraded"] ? "degraded" : "healthy";
    judge(verdict, state, () => `probe success ${verdict.probeSuccessRate}% < ${state === "unhealthy" ? limits["probe-success-unhealthy"] : limits["probe-success-degraded"]}%`);
  }
  return verdict;
}

/** Folds one signal's state into the verdict; the reason is only written for a signal that is not healthy. */
function judge(verdict: EntityHealth, state: HealthState, reason: () => string): void {
  verdict.state = worse(verdict.state, state);
  if (state === "degraded" || state === "unhealthy") verdict.reasons.push(reason());
}

function assessTraffic(sum: SummedMinutes, limits: HealthThresholds, verdict: EntityHealth): void {
  const { entity, minutes } = sum;
  const percentile = limits["latency-percentile"];
  const latency = metricOfSum(sum, percentile);
  if (latency !== undefined) {
    verdict.latencyMs = round(latency);
    const state = latency > limits["latency-unhealthy-ms"] ? "unhealthy" : latency > limits["latency-degraded-ms"] ? "degraded" : "healthy";
    judge(verdict, state, () => `${percentile} ${verdict.latencyMs} ms > ${state === "unhealthy" ? limits["latency-unhealthy-ms"] : limits["latency-degraded-ms"]} ms`);
  }
  const apdex = metricOfSum(sum, "apdex");
  if (apdex !== undefined) {
    verdict.apdex = round(apdex);
    const state = apdex < limits["apdex-unhealthy"] ? "unhealthy" : apdex < limits["apdex-degraded"] ? "degraded" : "healthy";
    judge(verdict, state, () => `apdex ${verdict.apdex} < ${state === "unhealthy" ? limits["apdex-unhealthy"] : limits["apdex-degraded"]}`);
  }
  // A short burst drowns in a window's SLA; one bad minute of enough errors still says "look here".
  const first = Math.max(0, entity.minutes.length - minutes);
  for (let index = first; index < entity.minutes.length; index++) {
    const errors = metricOfMinute(entity, index, "errors") ?? 0;
    const calls = metricOfMinute(entity, index, "calls") ?? 0;
    if (errors >= limits["error-burst-errors"] && (errors / calls) * 100 >= limits["error-burst-rate"]) {
      judge(verdict, "degraded", () => `error burst: ${errors} of ${calls} calls failed in one minute`);
      break;
    }
  }
}
