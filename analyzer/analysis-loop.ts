import type { Logger } from "pino";
import type { JobQueue } from "../core/queue/port.ts";

/** The schedule fires ticks here; each tick asks for one round. */
export const ANALYSIS_TICKS_QUEUE = "analysis";
/** Round jobs: at most one pending or running across every process sharing the queue. */
export const ANALYSIS_ROUNDS_QUEUE = "analysis-rounds";
const ROUND_SCHEDULE_ID = "analysis-round";
const ROUND_JOB_ID = "analysis-round";

export interface AnalysisLoopOptions {
  /** The process's queue: in-process, or BullMQ shared by every replica. */
  queue: JobQueue;
  intervalMs: number;
  /**
   * Also run a round right at start (one process alone, as a restarted single process always did). Off
   * when replicas share rounds: a replica joining must not add a round to the shared schedule.
   */
  isRoundAtStart: boolean;
  runRound: (nowMs: number) => Promise<void>;
  now: () => number;
  logger: Logger;
  onRound: (result: "ok" | "failed", seconds: number) => void;
}

interface RoundJob {
  dueMs: number;
}

/**
 * Drives analysis rounds from a queue schedule every `intervalMs` (on interval boundaries), so that with
 * BullMQ the replicas share one schedule and exactly one of them runs each round. Every analyzer process
 * upserts the same schedule (idempotent by id) and works both queues. A tick only adds the round job under
 * one fixed id: while a round is still pending or running anywhere, the next tick is absorbed, so rounds
 * never overlap (an overrunning round delays the next instead), as BullMQ's job schedulers would let them.
 */
export class AnalysisLoop {
  private running: Promise<void> | undefined;
  private isStopped = true;
  private isWorking = false;
  private completed = 0;

  constructor(private readonly options: AnalysisLoopOptions) {}

  /** Rounds this process finished (ok or failed) since start: tests wait on it. */
  rounds(): number {
    return this.completed;
  }

  async start(): Promise<void> {
    const { queue } = this.options;
    this.isStopped = false;
    // A queue takes one worker per name and process, so a restart of this component keeps the first ones.
    if (!this.isWorking) {
      queue.work<RoundJob>(ANALYSIS_TICKS_QUEUE, () => this.requestRound(), { concurrency: 1 });
      queue.work<RoundJob>(ANALYSIS_ROUNDS_QUEUE, () => this.takeRound(), { concurrency: 1 });
      this.isWorking = true;
    }
    await queue.upsertSchedule<RoundJob>(ANALYSIS_TICKS_QUEUE, ROUND_SCHEDULE_ID, { everyMs: this.options.intervalMs }, { dueMs: 0 });
    if (this.options.isRoundAtStart) await this.requestRound();
  }

  /** Waits for a running round, so what it decided is saved before storage closes. */
  async stop(): Promise<void> {
    this.isStopped = true;
    await this.running;
  }

  private async requestRound(): Promise<void> {
    await this.options.queue.add<RoundJob>(ANALYSIS_ROUNDS_QUEUE, { dueMs: this.options.now() }, { jobId: ROUND_JOB_ID });
  }

  private async takeRound(): Promise<void> {
    // A stopping process keeps taking jobs until its owner closes the queue; its state may already be
    // saved and storage closing, so it lets this round go (the next tick starts the next one anywhere).
    if (this.isStopped) {
      this.options.logger.info({ component: "analyzer" }, "analysis round skipped: this process is stopping");
      return;
    }
    this.running = this.round().finally(() => (this.running = undefined));
    await this.running;
  }

  private async round(): Promise<void> {
    const startedMs = Date.now();
    let result: "ok" | "failed" = "ok";
    try {
      await this.options.runRound(this.options.now());
    } catch (error) {
      // Storage down or a bug: this round is lost, the next one tries again; alerts keep their state.
      result = "failed";
      this.options.logger.error({ component: "analyzer", err: error }, "analysis round failed");
    }
    this.completed++;
    this.options.onRound(result, (Date.now() - startedMs) / 1000);
  }
}
