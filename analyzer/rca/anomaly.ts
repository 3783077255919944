/**
 * How far a service is from its own normal: its error rate and p95 against its baseline window, and its
 * failing probe runs. Comparing with its own past (not a global threshold) is what separates "ratings
 * broke" from "this batch job is always slow". Each part is 0..1; they combine as independent evidence
 * (noisy-or), so any one strong signal makes a service unhealthy and agreeing signals add up.
 */
import type { WindowStats } from "./mesh-snapshot.ts";
import type { ProbeSignal } from "./probe-signals.ts";

export interface AnomalyScore {
  /** 0 (normal) .. 1 (clearly broken). */
  score: number;
  errorPart: number;
  latencyPart: number;
  probePart: number;
}

/** An error rate this much above baseline (absolute) counts fully: 50 % of calls newly failing. */
const FULL_ERROR_RISE = 0.5;
/** p95 growing by this factor (log2: 2 = four times) counts fully. */
const FULL_LATENCY_OCTAVES = 2;
/** A p95 below this is treated as this, so 1 ms -> 3 ms is not a tripling worth waking anyone for. */
const LATENCY_FLOOR_MS = 10;

export function scoreAnomaly(
  now: WindowStats,
  before: WindowStats,
  probes: ProbeSignal | undefined,
  limits: { minErrors: number; minLatencyRiseMs: number },
): AnomalyScore {
  const errorRise = now.errors >= limits.minErrors ? now.errorRate - before.errorRate : 0;
  const errorPart = clamp01(errorRise / FULL_ERROR_RISE);
  const latencyPart = latencyRisePart(now, before, limits.minLatencyRiseMs);
  const probePart = probes === undefined || probes.runs === 0 ? 0 : probes.failures / probes.runs;
  const score = 1 - (1 - errorPart) * (1 - latencyPart) * (1 - probePart);
  return { score, errorPart, latencyPart, probePart };
}

function latencyRisePart(now: WindowStats, before: WindowStats, minRiseMs: number): number {
  // Without a baseline there is nothing to compare with: a new service is not slow by definition.
  if (now.calls === 0 || before.calls === 0 || now.p95Ms - before.p95Ms < minRiseMs) return 0;
  const octaves = Math.log2(Math.max(now.p95Ms, LATENCY_FLOOR_MS) / Math.max(before.p95Ms, LATENCY_FLOOR_MS));
  return clamp01(octaves / FULL_LATENCY_OCTAVES);
}

function clamp01(value: number): number {
  return value <= 0 || Number.isNaN(value) ? 0 : value >= 1 ? 1 : value;
}
