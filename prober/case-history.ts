/** A probe case defined, redefined or deleted through the API (here or, seen through the shared store, on another replica). */
export interface ProbeCaseChange {
  probe: string;
  /** The service the case is bound to ("" when unbound). */
  service: string;
  action: "put" | "delete";
  atMs: number;
}

/**
 * The recent API changes to probe cases, newest kept, at most `limit`: an alert's root cause cites a change to
 * its service's cases shortly before the symptoms (docs/alerting.md, "What changed"). File cases load at start
 * only, so they never change while the process runs.
 */
export class ProbeCaseHistory {
  private readonly changes: ProbeCaseChange[] = [];

  constructor(
    private readonly limit: number,
    private readonly now: () => number,
  ) {}

  record(probe: string, service: string, action: ProbeCaseChange["action"]): void {
    this.changes.push({ probe, service, action, atMs: this.now() });
    if (this.changes.length > this.limit) this.changes.splice(0, this.changes.length - this.limit);
  }

  /** The changes to cases bound to `service` within [fromMs, toMs], oldest first. */
  of(service: string, fromMs: number, toMs: number): ProbeCaseChange[] {
    return this.changes.filter((change) => change.service === service && change.atMs >= fromMs && change.atMs <= toMs);
  }
}
