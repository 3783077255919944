import type { JobOptions, JobQueue } from "../../core/queue/port.ts";
import type { AlertDispatcher, AlertNotification, IncidentNotification } from "../alerts/notification.ts";
import { OUTPUT_ADAPTERS } from "./adapters/registry.ts";
import type { OutputTarget } from "./config.ts";
import type { DeliveryRecorder } from "./delivery-recorder.ts";
import { ALERT_OUTPUTS_QUEUE, type DeliveryJob } from "./delivery-worker.ts";
import { incidentAsAlert } from "./incident-as-alert.ts";
import { outputAlertKey, RecentMap } from "./recent-map.ts";

export interface QueuedDispatcherOptions {
  queue: JobQueue;
  targets: ReadonlyMap<string, OutputTarget>;
  recorder: DeliveryRecorder;
  jobOptions: Required<Pick<JobOptions, "attempts" | "backoff">>;
  /** A still-firing alert is re-sent to an output at most this often. */
  resendIntervalMs: number;
  maxTrackedAlerts: number;
  now: () => number;
}

/**
 * The analyzer's side of the outputs: turns one notification into one queued job per output that wants it,
 * and returns as soon as they are queued. It never throws: a full queue or an unknown output is recorded
 * and counted, and analysis goes on.
 */
export class QueuedAlertDispatcher implements AlertDispatcher {
  /** Per output and alert: when a firing, reminder or repeat was last queued. */
  private readonly lastQueued: RecentMap<number>;
  /** Per output and alert: the start of the episode whose "resolved" was queued last. */
  private readonly resolvedStarts: RecentMap<number>;

  constructor(private readonly options: QueuedDispatcherOptions) {
    this.lastQueued = new RecentMap(options.maxTrackedAlerts);
    this.resolvedStarts = new RecentMap(options.maxTrackedAlerts);
  }

  /** Per alert: to the outputs that notify per alert (`notify: alert`). */
  async dispatch(notification: AlertNotification): Promise<void> {
    await Promise.all(this.outputNames(notification.outputs).map((name) => this.enqueue(name, "alert", notification)));
  }

  /** Per incident: to the outputs that notify per incident (`notify: incident`), the incident rendered as one alert. */
  async dispatchIncident({ incident, change, outputs }: IncidentNotification): Promise<void> {
    const notification = { alert: incidentAsAlert(incident), change, outputs, incident };
    await Promise.all(this.outputNames(outputs).map((name) => this.enqueue(name, "incident", notification)));
  }

  private outputNames(outputs: readonly string[]): string[] {
    return outputs.length === 0 ? [...this.options.targets.keys()] : [...new Set(outputs)];
  }

  private async enqueue(name: string, unit: "alert" | "incident", notification: AlertNotification & Pick<DeliveryJob, "incident">): Promise<void> {
    const { alert, change, incident } = notification;
    const { recorder, jobOptions } = this.options;
    const target = this.options.targets.get(name);
    if (target === undefined) {
      // Said once, by the alerts: an incident's outputs are its alerts' outputs.
      if (unit === "alert") recorder.record(notification, { output: name, type: null, attempt: 0, maxAttempts: 0, result: "unknown_output" });
      return;
    }
    if (target.notify !== unit || !OUTPUT_ADAPTERS[target.type].sendsChange(change) || !this.isDue(name, notification)) return;
    const nowMs = this.options.now();
    const job: DeliveryJob = { output: name, alert, change, enqueuedAtMs: nowMs, ...(incident ? { incident } : {}) };
    try {
      await this.options.queue.add(ALERT_OUTPUTS_QUEUE, job, jobOptions);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      recorder.record(notification, { output: name, type: target.type, attempt: 0, maxAttempts: jobOptions.attempts, result: "dropped", error: reason });
      return;
    }
    const key = outputAlertKey(name, alert.id);
    if (change === "resolved") {
      this.lastQueued.delete(key);
      this.resolvedStarts.set(key, alert.startsAtMs);
    } else this.lastQueued.set(key, nowMs);
  }

  /**
   * Repeats are spaced by the re-send interval, and never follow the resolution of their episode: a re-send read
   * from the alert state just before the alert resolved would re-open it in Alertmanager. Other changes always go.
   */
  private isDue(name: string, { alert, change }: AlertNotification): boolean {
    if (change !== "repeat") return true;
    const key = outputAlertKey(name, alert.id);
    if (alert.startsAtMs <= (this.resolvedStarts.get(key) ?? -Infinity)) return false;
    const lastMs = this.lastQueued.get(key);
    return lastMs === undefined || this.options.now() - lastMs >= this.options.resendIntervalMs;
  }
}
