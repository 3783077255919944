import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { RateLimitedLog } from "./rate-limited-log.ts";

/**
 * Bad input is never dropped silently: every reject is counted by source and reason in
 * `meshsight_rejected_total`, and logged at most once per source and reason every 10 s with how many
 * were rejected since, so a flood of bad input cannot flood the log.
 */
export class RejectCounter {
  private readonly counter: Counter<"source" | "reason">;
  private readonly log: RateLimitedLog;

  constructor(registry: Registry, logger: Logger, now: () => number = Date.now) {
    this.log = new RateLimitedLog(logger, undefined, now);
    this.counter = new Counter({
      name: "meshsight_rejected_total",
      help: "Input records rejected, by source and reason.",
      labelNames: ["source", "reason"],
      registers: [registry],
    });
  }

  reject(source: string, reason: string, count = 1, detail = ""): void {
    this.counter.inc({ source, reason }, count);
    this.log.warn(`${source}\u0000${reason}`, { source, reason, count, detail: detail.slice(0, 200) }, "input rejected", count);
  }
}
