/** A checker's verdict as Kuberhealthy's external-check protocol sends it: `{"OK": bool, "Errors": [...]}`. */
export interface KuberhealthyReport {
  ok: boolean;
  errors: string[];
}

export type DeliveryResult = "accepted" | "unknown" | "late";

/** Raised when more runs wait for reports than the registry holds. */
export class TooManyPendingRunsError extends Error {
  override readonly name = "TooManyPendingRunsError";
}

interface PendingRun {
  deadlineMs: number;
  resolve: (report: KuberhealthyReport) => void;
}

/**
 * Runs that wait for their checker pod to report, keyed by the run's uuid (`KH_RUN_UUID`). Bounded: at
 * most `maxPending` waiting runs, and a ring of the last `maxRemembered` finished uuids so a report that
 * comes after its run ended is told "late" (410, as Kuberhealthy v3 does) rather than "unknown" (400).
 */
export class PendingReports {
  private readonly pending = new Map<string, PendingRun>();
  private readonly finished = new Set<string>();

  constructor(
    private readonly maxPending: number,
    private readonly maxRemembered: number = maxPending * 4,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Registers a run; the promise resolves when its report arrives (it never rejects: ending is `finish`'s job). */
  expect(uuid: string, deadlineMs: number): Promise<KuberhealthyReport> {
    if (this.pending.has(uuid)) throw new Error(`run ${uuid} is already waiting for a report`);
    if (this.pending.size >= this.maxPending) throw new TooManyPendingRunsError(`${this.maxPending} k8s-job runs already wait for reports`);
    return new Promise<KuberhealthyReport>((resolve) => this.pending.set(uuid, { deadlineMs, resolve }));
  }

  /** Ends a run whatever happened; later reports for it are "late". */
  finish(uuid: string): void {
    if (!this.pending.delete(uuid)) return;
    this.finished.add(uuid);
    if (this.finished.size > this.maxRemembered) {
      const oldest = this.finished.values().next();
      if (!oldest.done) this.finished.delete(oldest.value);
    }
  }

  deliver(uuid: string, report: KuberhealthyReport, nowMs: number = Date.now()): DeliveryResult {
    const run = this.pending.get(uuid);
    if (!run) return this.finished.has(uuid) ? "late" : "unknown";
    if (nowMs >= run.deadlineMs) {
      this.finish(uuid);
      return "late";
    }
    run.resolve(report);
    this.finish(uuid);
    return "accepted";
  }
}
