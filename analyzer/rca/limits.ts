/**
 * Bounds and thresholds of one root-cause search. Analysis runs every minute for every firing alert, so
 * each search is capped in services walked, depth and storage queries, whatever the mesh looks like.
 */
export interface RcaLimits {
  /** Services visited from the symptomatic ones, themselves included. */
  maxServices: number;
  /** Hops followed from a symptomatic service to its dependencies. */
  maxDepth: number;
  /** Storage queries one `find` may issue; later steps are skipped (and logged) once spent. */
  maxQueries: number;
  /** Candidates whose instances are examined for a concentration of errors or latency. */
  maxInstanceChecks: number;
  /** Sample records, trace ids and probe runs kept as evidence, each. */
  maxEvidencePerKind: number;
  /** Probe results read for the window (newest first). */
  maxProbeResults: number;
  /** Anomaly score (0..1) at or above which a service counts as unhealthy. */
  unhealthyScore: number;
  /** Fewer errors than this in the window never make a service unhealthy: one failed call is noise. */
  minErrors: number;
  /** A latency rise smaller than this (p95, ms) is noise, whatever the ratio. */
  minLatencyRiseMs: number;
  /** Share of a service's errors (or slow calls) one instance must carry to be named. */
  instanceShare: number;
}

export const DEFAULT_RCA_LIMITS: Readonly<RcaLimits> = Object.freeze({
  maxServices: 50,
  maxDepth: 6,
  maxQueries: 24,
  maxInstanceChecks: 3,
  maxEvidencePerKind: 3,
  maxProbeResults: 500,
  unhealthyScore: 0.2,
  minErrors: 3,
  minLatencyRiseMs: 50,
  instanceShare: 0.8,
});

/** Merges overrides onto the defaults, rejecting values that would disable a bound. */
export function resolveRcaLimits(overrides: Partial<RcaLimits> = {}): RcaLimits {
  const limits: RcaLimits = { ...DEFAULT_RCA_LIMITS, ...overrides };
  for (const key of ["maxServices", "maxDepth", "maxQueries", "maxInstanceChecks", "maxEvidencePerKind", "maxProbeResults"] as const) {
    if (!Number.isInteger(limits[key]) || limits[key] < 1) throw new Error(`rca limit ${key} must be a positive integer, got ${limits[key]}`);
  }
  for (const key of ["unhealthyScore", "instanceShare"] as const) {
    if (!(limits[key] > 0 && limits[key] <= 1)) throw new Error(`rca limit ${key} must be in (0, 1], got ${limits[key]}`);
  }
  for (const key of ["minErrors", "minLatencyRiseMs"] as const) {
    if (!(limits[key] >= 0)) throw new Error(`rca limit ${key} must be >= 0, got ${limits[key]}`);
  }
  return limits;
}
