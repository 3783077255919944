import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../../core/lifecycle.ts";
import type { JobQueue } from "../../core/queue/port.ts";
import type { AlertDispatcher, StandingAlertRegistry } from "../alerts/notification.ts";
import { OUTPUT_ADAPTERS } from "./adapters/registry.ts";
import type { OutputsConfig } from "./config.ts";
import { deliveriesRoutes } from "./deliveries-route.ts";
import { DeliveryLog } from "./delivery-log.ts";
import { DeliveryRecorder } from "./delivery-recorder.ts";
import { ALERT_OUTPUTS_QUEUE, DeliveryWorker, type DeliveryJob } from "./delivery-worker.ts";
import { QueuedAlertDispatcher } from "./dispatcher.ts";
import { LeaseRenewals } from "./lease-renewals.ts";

export { outputsSection } from "./config.ts";

export interface AlertOutputsDeps {
  config: OutputsConfig;
  /** The process's queue; its owner closes it after the components stopped (that stops the worker). */
  queue: JobQueue;
  registry: Registry;
  logger: Logger;
  now?: () => number;
}

export interface AlertOutputs {
  /** Hand this to the analyzer's alert lifecycle; it takes per-incident notifications too. */
  dispatcher: Required<AlertDispatcher>;
  /** Where the analyzer and the risk guard register their standing alerts, re-sent every re-send interval. */
  renewals: StandingAlertRegistry;
  /** The delivery worker and the lease renewals; start them after the queue. */
  components: Component[];
  routes: FastifyPluginAsync[];
}

/** Per output, alerts whose re-send time and delivery order are remembered; older ones are forgotten first. */
const MAX_TRACKED_ALERTS = 10_000;

/**
 * A firing alert stays active in Alertmanager this long without a re-send: four re-send intervals, like Prometheus'
 * endsAt = now + 4 x max(evaluation interval, resend delay) (rules/alerting.go), so two lost or late re-sends
 * never make the alert flap. Re-sends run on their own timer (LeaseRenewals), so only that interval counts.
 */
export function alertmanagerLeaseMs(resendIntervalMs: number): number {
  return 4 * resendIntervalMs;
}

/** Wires the alerting outputs; analyzer/analyzer.ts adds the components to the lifecycle and the routes to the HTTP app. */
export function createAlertOutputs(deps: AlertOutputsDeps): AlertOutputs {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const targets = new Map(config.targets.map((target) => [target.name, target]));
  const log = new DeliveryLog(config.deliveryLogSize);
  const recorder = new DeliveryRecorder(log, deps.registry, deps.logger, now);
  const backoff = { type: "exponential" as const, delayMs: config.retryBackoffMs };
  const dispatcher = new QueuedAlertDispatcher({
    queue: deps.queue,
    targets,
    recorder,
    jobOptions: { attempts: config.retryAttempts, backoff },
    resendIntervalMs: config.alertmanagerResendIntervalMs,
    maxTrackedAlerts: MAX_TRACKED_ALERTS,
    now,
  });
  const worker = new DeliveryWorker({
    targets,
    recorder,
    maxAttempts: config.retryAttempts,
    backoff,
    publicUrl: config.publicUrl.replace(/\/+$/, ""),
    alertmanagerLeaseMs: alertmanagerLeaseMs(config.alertmanagerResendIntervalMs),
    maxTrackedAlerts: MAX_TRACKED_ALERTS,
    now,
  });
  const workerComponent: Component = {
    name: "alert-outputs",
    start: async () => deps.queue.work<DeliveryJob>(ALERT_OUTPUTS_QUEUE, worker.handle, { concurrency: config.workerConcurrency }),
    // Closing the queue (its owner does) waits for deliveries in flight.
    stop: async () => undefined,
  };
  const renewals = new LeaseRenewals({ queue: deps.queue, intervalMs: config.alertmanagerResendIntervalMs, dispatcher, logger: deps.logger });
  // Without an output that leases alerts there is nothing to renew, and no schedule ticks for nothing.
  const isLeasing = config.targets.some((target) => OUTPUT_ADAPTERS[target.type].sendsChange("repeat"));
  const renewalComponent: Component = { name: "alert-outputs.renewals", start: () => renewals.start(), stop: async () => undefined };
  return { dispatcher, renewals, components: isLeasing ? [workerComponent, renewalComponent] : [workerComponent], routes: [deliveriesRoutes(log, config.targets)] };
}
