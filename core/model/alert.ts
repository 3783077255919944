import type { MetricScope } from "./metrics.ts";

export type AlertState = "firing" | "resolved";

/** Evidence behind a verdict: metric changes, error samples, traces, probe runs, and what changed shortly before. */
export interface Evidence {
  kind: "metric" | "sample" | "trace" | "probe" | "change";
  summary: string;
  ref: string;
}

export interface RootCause {
  service: string;
  instance: string;
  score: number;
  reason: string;
  evidence: Evidence[];
}

export interface Alert {
  id: string;
  rule: string;
  scope: MetricScope | "probe";
  entity: string;
  state: AlertState;
  message: string;
  labels: Record<string, string>;
  startsAtMs: number;
  /** 0 while firing. */
  endsAtMs: number;
  rootCause: RootCause | null;
  /** The incident it belongs to: alerts with one root-cause service within a window (analyzer/alerts/incidents.ts). */
  incidentId?: string;
  /**
   * Where a person or a receiver reads this alert, under meshsight's public URL; absent for the analyzer's alerts,
   * which are at /api/v1/alerts/<id>. Alerts kept elsewhere (the risk guard's) name their own page.
   */
  path?: string;
}
