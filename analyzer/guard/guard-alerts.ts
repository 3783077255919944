import type { Logger } from "pino";
import type { Alert } from "../../core/model/alert.ts";
import type { AlertDispatcher, AlertNotification } from "../alerts/notification.ts";
import { BRAKE_SCOPE, type BucketView } from "./risk-guard.ts";

export const GUARD_ALERT_RULE = "risk_guard_tripped";

/**
 * The guard's own alerts, sent through the analyzer's outputs like any other: one "firing" when a bucket
 * trips or the sanity brake engages (a trip happens once until reset, so one alert per trip), "repeat" on the
 * outputs' re-send timer for as long as the trip stands (`standing`), "resolved" when an operator resets it. The
 * alert id is the bucket key, so receivers group repeats of one bucket; its link is the bucket in GET /api/v1/guard.
 */
export class GuardAlerts {
  constructor(
    private readonly dispatcher: AlertDispatcher,
    private readonly outputs: readonly string[],
    private readonly logger: Logger,
  ) {}

  async raise(key: string, startsAtMs: number, message: string): Promise<void> {
    await this.send({ alert: this.alertFor(key, startsAtMs, message, "firing", 0), change: "firing", outputs: this.outputs });
  }

  async clear(key: string, startsAtMs: number, endsAtMs: number, message: string): Promise<void> {
    await this.send({ alert: this.alertFor(key, startsAtMs, message, "resolved", endsAtMs), change: "resolved", outputs: this.outputs });
  }

  /** The tripped buckets among `buckets` as "repeat" notifications, so leases on their alerts never lapse. */
  standing(buckets: readonly BucketView[]): AlertNotification[] {
    return buckets.flatMap(({ key, tripped }) => {
      if (tripped === null) return [];
      const message = `meshsight risk guard: ${key} is tripped since ${new Date(tripped.atMs).toISOString()} (${tripped.reason}); its operations stay refused until POST /api/v1/guard/reset.`;
      return [{ alert: this.alertFor(key, tripped.atMs, message, "firing", 0), change: "repeat" as const, outputs: this.outputs }];
    });
  }

  /** Labels come from the key alone: the firing, every re-send and the resolved alert carry the same identity. */
  private alertFor(key: string, startsAtMs: number, message: string, state: Alert["state"], endsAtMs: number): Alert {
    const at = key.indexOf("@");
    const [kind, scope] = at < 0 ? [key, ""] : [key.slice(0, at), key.slice(at + 1)];
    return {
      id: `risk-guard:${key}`,
      rule: GUARD_ALERT_RULE,
      // The guard watches operations, not a metric entity; "service" is meshsight itself.
      scope: "service",
      entity: "meshsight-risk-guard",
      state,
      message,
      labels: { severity: "critical", source: "meshsight-risk-guard", bucket: key, kind, rule: scope === BRAKE_SCOPE ? "sanity-brake" : "token-bucket" },
      startsAtMs,
      endsAtMs,
      rootCause: null,
      path: `/api/v1/guard?key=${encodeURIComponent(key)}`,
    };
  }

  /** An alert that cannot be queued must not undo the refusal it reports; the log and the audit keep it. */
  private async send(notification: AlertNotification): Promise<void> {
    try {
      await this.dispatcher.dispatch(notification);
    } catch (error) {
      this.logger.error({ component: "risk-guard", alert: notification.alert.id, err: error }, "could not queue the risk guard's alert");
    }
  }
}
