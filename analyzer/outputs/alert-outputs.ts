import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../../core/lifecycle.ts";
import type { JobQueue } from "../../core/queue/port.ts";
import type { AlertDispatcher } from "../alerts/notification.ts";
import type { OutputsConfig } from "./config.ts";
import { deliveriesRoutes } from "./deliveries-route.ts";
import { DeliveryLog } from "./delivery-log.ts";
import { DeliveryRecorder } from "./delivery-recorder.ts";
import { ALERT_OUTPUTS_QUEUE, DeliveryWorker, type DeliveryJob } from "./delivery-worker.ts";
import { QueuedAlertDispatcher } from "./dispatcher.ts";

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
  /** Hand this to the analyzer's alert lifecycle. */
  dispatcher: AlertDispatcher;
  /** The delivery worker; start it after the queue. */
  components: Component[];
  routes: FastifyPluginAsync[];
}

/** Per output, alerts whose re-send time and delivery order are remembered; older ones are forgotten first. */
const MAX_TRACKED_ALERTS = 10_000;

/**
 * A firing alert stays active in Alertmanager this long without a re-send: four re-send intervals, and never
 * under four minutes, like Prometheus's 4 x max(evaluation interval, 1 m), so a late analysis round or a
 * retried delivery does not make the alert flap.
 */
export function alertmanagerLeaseMs(resendIntervalMs: number): number {
  return 4 * Math.max(resendIntervalMs, 60_000);
}

/** Wires the alerting outputs; cli.ts adds the components to the lifecycle and the routes to the HTTP app. */
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
  return { dispatcher, components: [workerComponent], routes: [deliveriesRoutes(log, config.targets)] };
}
