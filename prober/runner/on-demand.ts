import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ProbeResult } from "../../core/model/probe.ts";
import type { ProbeCase } from "../case.ts";
import type { ProbeRunner } from "./probe-runner.ts";

/** Raised when too many on-demand runs are in flight; the API answers 503 (retry later). */
export class TooManyRunsError extends Error {
  override readonly name = "TooManyRunsError";
}

export interface StartedRun {
  runId: string;
  /** Results for every target of the run; never rejects. */
  done: Promise<ProbeResult[]>;
}

/**
 * Manual and event-triggered runs. They run in this process right away (not through the queue): the
 * caller is waiting for a run id and maybe the result, and a queue hop through Redis would only add
 * latency. They still share the runner's per-(case, target) guard with scheduled runs. Bounded: at most
 * `maxInFlight` on-demand runs at once.
 */
export class OnDemandRuns {
  private inFlight = 0;

  constructor(
    private readonly runner: ProbeRunner,
    private readonly maxInFlight: number,
    private readonly logger: Logger,
  ) {}

  /** Runs `probe` against all its targets, or only `target` when given (which must be one of them). */
  start(probe: ProbeCase, target?: string): StartedRun {
    if (this.inFlight >= this.maxInFlight) throw new TooManyRunsError(`${this.maxInFlight} on-demand probe runs are already in flight`);
    const runId = randomUUID();
    const targets = target === undefined ? probe.targets : [target];
    this.inFlight += 1;
    const done = Promise.all(targets.map(async (each) => (await this.runner.run(probe, each, { runId })).result))
      .catch((error: unknown) => {
        this.logger.error({ probe: probe.name, runId, error: String(error) }, "on-demand probe run failed");
        return [];
      })
      .finally(() => {
        this.inFlight -= 1;
      });
    return { runId, done };
  }
}
