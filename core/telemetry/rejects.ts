import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";

const LOG_INTERVAL_MS = 10_000;

/**
 * Bad input is never dropped silently: every reject is counted by source and reason in
 * `meshsight_rejected_total`, and logged at most once per source and reason every 10 s with how many
 * were rejected since, so a flood of bad input cannot flood the log.
 */
export class RejectCounter {
  private readonly counter: Counter<"source" | "reason">;
  private readonly lastLogged = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    registry: Registry,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.counter = new Counter({
      name: "meshsight_rejected_total",
      help: "Input records rejected, by source and reason.",
      labelNames: ["source", "reason"],
      registers: [registry],
    });
  }

  reject(source: string, reason: string, count = 1, detail = ""): void {
    this.counter.inc({ source, reason }, count);
    const key = `${source}\u0000${reason}`;
    const state = this.lastLogged.get(key);
    const nowMs = this.now();
    if (state && nowMs - state.atMs < LOG_INTERVAL_MS) {
      state.suppressed += count;
      return;
    }
    // The key set is bounded by the code's fixed reasons, not by input, so this map cannot grow unbounded.
    this.lastLogged.set(key, { atMs: nowMs, suppressed: 0 });
    this.logger.warn({ source, reason, count, suppressedSinceLastLog: state?.suppressed ?? 0, detail: detail.slice(0, 200) }, "input rejected");
  }
}
