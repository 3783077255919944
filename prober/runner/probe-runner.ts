import { randomUUID } from "node:crypto";
import type { ProbeResult } from "../../core/model/probe.ts";
import type { KindLookup, ProbeCase } from "../case.ts";
import { BoundedRegexMatcher } from "../../core/regex/bounded-match.ts";
import { EgressPolicy } from "../egress/egress-policy.ts";
import type { ProbeOutcome } from "../kinds/kind.ts";
import { ProbeFiles } from "../kinds/probe-files.ts";
import { emptyOutcome, runWithTimeout, type RunAllowances } from "./run-with-timeout.ts";

/** One finished run of a case against a target: the stored result and the kind's raw outcome (for metrics). */
export interface RunRecord {
  result: ProbeResult;
  outcome: ProbeOutcome;
}

export interface ProbeRunnerOptions {
  kinds: KindLookup;
  /** Gets every recorded run (the result batcher, metrics); must not throw. */
  onResult: (record: RunRecord, probe: ProbeCase) => void;
  /** How long a kind may ignore its abort signal before the run is abandoned as stuck. */
  stuckGraceMs?: number;
  /** Wait between a failed attempt and the next one. */
  retryDelayMs?: number;
  /** Where runs may connect; the default policy (no loopback, link-local or metadata addresses) when absent. */
  egress?: EgressPolicy;
  /** The files specs may read; none when absent. */
  files?: ProbeFiles;
  now?: () => number;
}

export interface RunRequest {
  runId?: string;
  /** false for ad-hoc runs (blackbox /probe): not stored, no metric series for arbitrary targets. */
  record?: boolean;
}

/**
 * Runs a case against one target: the attempts (1 + retries) each under the case's timeout, one result
 * with the attempt that decided it. At most one run per case and target is in flight in this process:
 * a second request for the same pair joins the running one instead of starting a duplicate (BullMQ's
 * jobId dedupe does the same across processes).
 */
export class ProbeRunner {
  private readonly inFlight = new Map<string, Promise<RunRecord>>();
  private readonly stuckGraceMs: number;
  private readonly retryDelayMs: number;
  private readonly now: () => number;
  private readonly allowances: RunAllowances;
  private joinedRuns = 0;

  constructor(private readonly options: ProbeRunnerOptions) {
    this.stuckGraceMs = options.stuckGraceMs ?? 1_000;
    this.retryDelayMs = options.retryDelayMs ?? 0;
    this.now = options.now ?? Date.now;
    this.allowances = {
      egress: options.egress ?? new EgressPolicy({ allow: [], deny: [], defaultAction: "allow" }),
      files: options.files ?? new ProbeFiles(undefined),
      // Its helper thread starts on the first costly match and never keeps the process alive.
      patterns: new BoundedRegexMatcher(),
    };
  }

  /** Requests that joined a run already in flight instead of starting their own. */
  get deduplicatedRuns(): number {
    return this.joinedRuns;
  }

  get runningCount(): number {
    return this.inFlight.size;
  }

  /** Resolves once every run in flight now has finished (stop paths call it so no result is lost). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  isRunning(probe: string, target: string): boolean {
    return this.inFlight.has(runKey(probe, target));
  }

  /** Never rejects for a probe failure; the record's status says how it went. */
  run(probe: ProbeCase, target: string, request: RunRequest = {}): Promise<RunRecord> {
    const record = request.record ?? true;
    // Ad-hoc runs are not deduplicated against scheduled ones: they must answer for the caller's own module.
    if (!record) return this.execute(probe, target, request.runId ?? randomUUID());
    const key = runKey(probe.name, target);
    const running = this.inFlight.get(key);
    if (running) {
      this.joinedRuns += 1;
      return running;
    }
    const execution = this.execute(probe, target, request.runId ?? randomUUID())
      .then((done) => {
        this.options.onResult(done, probe);
        return done;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, execution);
    return execution;
  }

  private async execute(probe: ProbeCase, target: string, runId: string): Promise<RunRecord> {
    const kind = this.options.kinds(probe.kind);
    let attempt = 0;
    let startedMs = this.now();
    let outcome: ProbeOutcome = emptyOutcome("error", `unknown kind "${probe.kind}"`);
    while (kind && attempt <= probe.retries) {
      if (attempt > 0 && this.retryDelayMs > 0) await delay(this.retryDelayMs);
      attempt += 1;
      startedMs = this.now();
      outcome = await runWithTimeout(kind, probe.spec, target, probe.timeoutMs, this.stuckGraceMs, this.allowances);
      if (outcome.status === "success") break;
    }
    const durationMs = Math.max(0, this.now() - startedMs);
    return {
      outcome,
      result: {
        runId,
        probe: probe.name,
        kind: probe.kind,
        target,
        service: probe.service,
        status: outcome.status,
        startedMs,
        durationMs,
        phases: { ...outcome.phases },
        message: outcome.message,
        attempt: Math.max(1, attempt),
        labels: { ...probe.labels },
      },
    };
  }
}

export function runKey(probe: string, target: string): string {
  return `${probe}\u0000${target}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
