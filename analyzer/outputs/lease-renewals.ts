import type { Logger } from "pino";
import type { JobQueue } from "../../core/queue/port.ts";
import { RateLimitedLog } from "../../core/telemetry/rate-limited-log.ts";
import type { AlertDispatcher, StandingAlertRegistry, StandingAlerts } from "../alerts/notification.ts";

/** The schedule ticks here; one tick re-sends everything that stands. */
export const LEASE_RENEWALS_QUEUE = "alert-lease-renewals";
const RENEWAL_SCHEDULE_ID = "alert-lease-renewal";

export interface LeaseRenewalsOptions {
  /** The process's queue: with BullMQ the replicas share one schedule, so one of them renews each time. */
  queue: JobQueue;
  intervalMs: number;
  dispatcher: AlertDispatcher;
  logger: Logger;
}

/**
 * Re-sends every standing alert (firing rule alerts, tripped guard buckets) as a "repeat" every `intervalMs`, on a
 * timer of its own, like Prometheus' --rules.alert.resend-delay: how often an alert fires or reminds people (the
 * rule's silence-period, the analysis interval) never decides whether Alertmanager's lease on it runs out.
 */
export class LeaseRenewals implements StandingAlertRegistry {
  private readonly sources: StandingAlerts[] = [];
  private readonly rateLimitedLog: RateLimitedLog;
  private isWorking = false;

  constructor(private readonly options: LeaseRenewalsOptions) {
    this.rateLimitedLog = new RateLimitedLog(options.logger);
  }

  add(source: StandingAlerts): void {
    this.sources.push(source);
  }

  async start(): Promise<void> {
    const { queue, intervalMs } = this.options;
    // A queue takes one worker per name and process, so a restart of this component keeps the first one.
    if (!this.isWorking) {
      queue.work<Record<string, never>>(LEASE_RENEWALS_QUEUE, () => this.renew(), { concurrency: 1 });
      this.isWorking = true;
    }
    await queue.upsertSchedule(LEASE_RENEWALS_QUEUE, RENEWAL_SCHEDULE_ID, { everyMs: intervalMs }, {});
  }

  /** One renewal now (the schedule's tick; tests call it too). A failing source never stops the others. */
  async renew(): Promise<void> {
    for (const [index, source] of this.sources.entries()) {
      try {
        for (const notification of await source()) await this.options.dispatcher.dispatch(notification);
      } catch (error) {
        this.rateLimitedLog.warn(`lease-renewal-${index}`, { component: "alert-outputs", err: error }, "could not re-send standing alerts; the next renewal tries again");
      }
    }
  }
}
