import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { RateLimitedLog } from "./rate-limited-log.ts";

/** Rejects keyed `source/reason`, as `meshsight_rejected_total` labels them. */
export type RejectCounts = Map<string, number>;

/**
 * Bad input is never dropped silently: every reject is counted by source and reason in
 * `meshsight_rejected_total`, and logged at most once per source and reason every 10 s with how many
 * were rejected since, so a flood of bad input cannot flood the log. Values that were kept but changed
 * to be storable (a lone surrogate replaced, an overlong text cut) are counted the same way in
 * `meshsight_repaired_values_total`.
 */
export class RejectCounter {
  private readonly counter: Counter<"source" | "reason">;
  private readonly repairs: Counter<"source" | "reason">;
  private readonly log: RateLimitedLog;
  /** Rejects of the synchronous work `during` is running, if any. */
  private current: RejectCounts | null = null;
  private rejectedSoFar = 0;

  constructor(registry: Registry, logger: Logger, now: () => number = Date.now) {
    this.log = new RateLimitedLog(logger, undefined, now);
    this.counter = new Counter({
      name: "meshsight_rejected_total",
      help: "Input records rejected, by source and reason.",
      labelNames: ["source", "reason"],
      registers: [registry],
    });
    this.repairs = new Counter({
      name: "meshsight_repaired_values_total",
      help: "Input values stored after a repair (lone surrogate replaced, overlong text cut), by source and reason.",
      labelNames: ["source", "reason"],
      registers: [registry],
    });
  }

  reject(source: string, reason: string, count = 1, detail = ""): void {
    this.counter.inc({ source, reason }, count);
    this.rejectedSoFar += count;
    if (this.current !== null) addReject(this.current, `${source}/${reason}`, count);
    this.log.warn(`${source}\u0000${reason}`, { source, reason, count, detail: detail.slice(0, 200) }, "input rejected", count);
  }

  /** Records rejected since the process started, all sources and reasons (the console summary's). */
  get total(): number {
    return this.rejectedSoFar;
  }

  repaired(source: string, reason: string, count = 1): void {
    this.repairs.inc({ source, reason }, count);
    this.log.warn(`repaired\u0000${source}\u0000${reason}`, { source, reason, count }, "input values repaired before storage", count);
  }

  /**
   * Runs synchronous `work` and tells which rejects it caused: a receiver answers its client with what
   * became of its own records, wherever in the pipeline they were refused. JavaScript runs `work` to the
   * end before any other input is handled, so nothing else can be counted in between. The map holds one
   * key per source and reason, a fixed set in the code.
   */
  during<T>(work: () => T): { result: T; rejects: RejectCounts } {
    const outer = this.current;
    const rejects: RejectCounts = new Map();
    this.current = rejects;
    try {
      return { result: work(), rejects };
    } finally {
      this.current = outer;
      if (outer !== null) for (const [key, count] of rejects) addReject(outer, key, count);
    }
  }
}

export function addReject(counts: RejectCounts, key: string, count: number): void {
  counts.set(key, (counts.get(key) ?? 0) + count);
}
