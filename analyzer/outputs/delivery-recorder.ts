import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { RateLimitedLog } from "../../core/telemetry/rate-limited-log.ts";
import type { DeliveryNotification } from "./adapters/adapter.ts";
import type { OutputType } from "./config.ts";
import type { DeliveryLog, DeliveryResult } from "./delivery-log.ts";

export interface AttemptOutcome {
  output: string;
  type: OutputType | null;
  attempt: number;
  maxAttempts: number;
  result: DeliveryResult;
  status?: number | null;
  error?: string | null;
  durationMs?: number;
  retryInMs?: number | null;
}

/**
 * Every delivery outcome goes three ways: the in-memory log the API shows, the
 * `meshsight_alert_deliveries_total{output,result}` counter, and (for failures) a rate-limited log line.
 */
export class DeliveryRecorder {
  private readonly deliveries: Counter<"output" | "result">;
  private readonly unknownOutputs: Counter;
  private readonly warnings: RateLimitedLog;

  constructor(
    private readonly log: DeliveryLog,
    registry: Registry,
    logger: Logger,
    private readonly now: () => number,
  ) {
    this.warnings = new RateLimitedLog(logger, undefined, now);
    this.deliveries = new Counter({
      name: "meshsight_alert_deliveries_total",
      help: "Alert delivery attempts by configured output and result (delivered, retrying, failed, dropped, superseded).",
      labelNames: ["output", "result"],
      registers: [registry],
    });
    // A separate counter: names that are not configured come from rule files and must not become label values.
    this.unknownOutputs = new Counter({
      name: "meshsight_alert_unknown_outputs_total",
      help: "Notifications that named an output that is not configured (see the log for the name).",
      registers: [registry],
    });
  }

  record(notification: DeliveryNotification, outcome: AttemptOutcome): void {
    const { alert, change } = notification;
    const atMs = this.now();
    this.log.add({
      at: new Date(atMs).toISOString(),
      atMs,
      output: outcome.output,
      type: outcome.type,
      alertId: alert.id,
      rule: alert.rule,
      entity: alert.entity,
      change,
      attempt: outcome.attempt,
      maxAttempts: outcome.maxAttempts,
      result: outcome.result,
      status: outcome.status ?? null,
      error: outcome.error ?? null,
      durationMs: outcome.durationMs ?? 0,
      retryInMs: outcome.retryInMs ?? null,
    });
    if (outcome.result === "unknown_output") {
      this.unknownOutputs.inc();
      this.warnings.warn(`unknown\u0000${outcome.output}`, { output: outcome.output, rule: alert.rule }, "alert names an output that is not configured");
      return;
    }
    this.deliveries.inc({ output: outcome.output, result: outcome.result });
    if (outcome.result === "retrying" || outcome.result === "failed" || outcome.result === "dropped") {
      const fields = { output: outcome.output, result: outcome.result, attempt: outcome.attempt, error: outcome.error };
      this.warnings.warn(`${outcome.result}\u0000${outcome.output}`, fields, "alert delivery did not succeed");
    }
  }
}
