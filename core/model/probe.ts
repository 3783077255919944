/** The outcome of one run of a probe case against one target. */
export type ProbeStatus = "success" | "failure" | "timeout" | "error";

export interface ProbeResult {
  runId: string;
  probe: string;
  kind: string;
  target: string;
  /** The service the case is bound to, "" if none: ties results to the analyzer's entities. */
  service: string;
  status: ProbeStatus;
  startedMs: number;
  durationMs: number;
  /** Phase timings in ms, e.g. dns, connect, tls, firstByte, total. */
  phases: Record<string, number>;
  message: string;
  attempt: number;
  labels: Record<string, string>;
}
