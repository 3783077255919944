import type { Logger } from "pino";
import type { Alert } from "../../core/model/alert.ts";
import type { AlertDispatcher } from "../alerts/notification.ts";

export const GUARD_ALERT_RULE = "risk_guard_tripped";

/**
 * The guard's own alerts, sent through the analyzer's outputs like any other: one "firing" when a bucket
 * trips or the sanity brake engages (a trip happens once until reset, so one alert per trip), "resolved"
 * when an operator resets it. The alert id is the bucket key, so receivers group repeats of one bucket.
 */
export class GuardAlerts {
  constructor(
    private readonly dispatcher: AlertDispatcher,
    private readonly outputs: readonly string[],
    private readonly logger: Logger,
  ) {}

  async raise(key: string, startsAtMs: number, message: string, labels: Record<string, string>): Promise<void> {
    await this.send(this.alertFor(key, startsAtMs, message, labels, "firing", 0), "firing");
  }

  async clear(key: string, startsAtMs: number, endsAtMs: number, message: string): Promise<void> {
    await this.send(this.alertFor(key, startsAtMs, message, {}, "resolved", endsAtMs), "resolved");
  }

  private alertFor(key: string, startsAtMs: number, message: string, labels: Record<string, string>, state: Alert["state"], endsAtMs: number): Alert {
    return {
      id: `risk-guard:${key}`,
      rule: GUARD_ALERT_RULE,
      // The guard watches operations, not a metric entity; "service" is meshsight itself.
      scope: "service",
      entity: "meshsight-risk-guard",
      state,
      message,
      labels: { severity: "critical", source: "meshsight-risk-guard", bucket: key, ...labels },
      startsAtMs,
      endsAtMs,
      rootCause: null,
    };
  }

  /** An alert that cannot be queued must not undo the refusal it reports; the log and the audit keep it. */
  private async send(alert: Alert, change: "firing" | "resolved"): Promise<void> {
    try {
      await this.dispatcher.dispatch({ alert, change, outputs: this.outputs });
    } catch (error) {
      this.logger.error({ component: "risk-guard", alert: alert.id, err: error }, "could not queue the risk guard's alert");
    }
  }
}
