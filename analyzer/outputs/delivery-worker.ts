import { PermanentJobError, type Backoff, type Job } from "../../core/queue/port.ts";
import { retryDelayMs } from "../../core/queue/job-options.ts";
import type { DeliveryNotification, ReplyVerdict } from "./adapters/adapter.ts";
import { OUTPUT_ADAPTERS } from "./adapters/registry.ts";
import type { OutputTarget } from "./config.ts";
import type { DeliveryRecorder } from "./delivery-recorder.ts";
import { describeSendError, postRequest } from "./http-post.ts";
import { outputAlertKey, RecentMap } from "./recent-map.ts";

export const ALERT_OUTPUTS_QUEUE = "alert-outputs";

/** One job per notification and output, so a receiver that is down only ever delays its own jobs. */
export interface DeliveryJob extends DeliveryNotification {
  output: string;
  /** When the analyzer handed it over; orders notifications of one alert whatever the retries did. */
  enqueuedAtMs: number;
}

export interface DeliveryWorkerOptions {
  targets: ReadonlyMap<string, OutputTarget>;
  recorder: DeliveryRecorder;
  maxAttempts: number;
  backoff: Backoff;
  publicUrl: string;
  alertmanagerLeaseMs: number;
  /** Alerts whose delivery order is remembered per output. */
  maxTrackedAlerts: number;
  now: () => number;
}

/** Sends delivery jobs: renders the request at send time, posts it, judges the reply, and records every attempt. */
export class DeliveryWorker {
  /** Per output and alert: enqueue time of the newest notification delivered. */
  private readonly lastDelivered: RecentMap<number>;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.lastDelivered = new RecentMap(options.maxTrackedAlerts);
  }

  readonly handle = async (job: Job<DeliveryJob>): Promise<void> => {
    const { output, alert, change, incident, enqueuedAtMs } = job.data;
    const { maxAttempts, recorder } = this.options;
    const notification: DeliveryNotification = { alert, change, ...(incident ? { incident } : {}) };
    const target = this.options.targets.get(output);
    if (target === undefined) {
      // Possible with a shared Redis queue: another process enqueued for an output this one does not have.
      recorder.record(notification, { output, type: null, attempt: job.attempt, maxAttempts, result: "unknown_output" });
      return;
    }
    const base = { output, type: target.type, attempt: job.attempt, maxAttempts };
    const key = outputAlertKey(output, alert.id);
    // A retried "firing" must not land after the "resolved" that followed it, or the receiver would re-open the alert.
    if ((this.lastDelivered.get(key) ?? -Infinity) > enqueuedAtMs) {
      recorder.record(notification, { ...base, result: "superseded" });
      return;
    }
    const startedMs = this.options.now();
    const verdict = await this.send(target, notification);
    const durationMs = this.options.now() - startedMs;
    if (verdict.ok) {
      this.lastDelivered.set(key, enqueuedAtMs);
      recorder.record(notification, { ...base, result: "delivered", status: verdict.status, durationMs });
      return;
    }
    const isLastAttempt = !verdict.retryable || job.attempt >= maxAttempts;
    const retryInMs = isLastAttempt ? null : retryDelayMs(this.options.backoff, job.attempt);
    recorder.record(notification, { ...base, result: isLastAttempt ? "failed" : "retrying", status: verdict.status, error: verdict.reason, durationMs, retryInMs });
    throw verdict.retryable ? new Error(verdict.reason) : new PermanentJobError(verdict.reason);
  };

  private async send(target: OutputTarget, notification: DeliveryNotification): Promise<ReplyVerdict & { status: number | null }> {
    const adapter = OUTPUT_ADAPTERS[target.type];
    const { publicUrl, alertmanagerLeaseMs } = this.options;
    const rendered = adapter.render(notification, { target, nowMs: this.options.now(), publicUrl, alertmanagerLeaseMs });
    // The protocol's own headers win: a configured header must not break content-type or a signature.
    // Lower-cased first: "Content-Type" and "content-type" would otherwise both be sent, joined by a comma.
    const configured = Object.fromEntries(Object.entries(target.headers).map(([name, value]) => [name.toLowerCase(), value]));
    const request = { ...rendered, headers: { ...configured, ...rendered.headers } };
    try {
      const reply = await postRequest(request, target.timeoutMs);
      return { ...adapter.readReply(reply.status, reply.body), status: reply.status };
    } catch (error) {
      return { ok: false, retryable: true, reason: describeSendError(error), status: null };
    }
  }
}
