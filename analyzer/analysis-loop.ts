import type { Logger } from "pino";

export interface AnalysisLoopOptions {
  intervalMs: number;
  runRound: (nowMs: number) => Promise<void>;
  now: () => number;
  logger: Logger;
  onRound: (result: "ok" | "failed", seconds: number) => void;
}

/**
 * Runs analysis rounds one after another, `intervalMs` apart from start to start; a round that overruns
 * delays the next instead of overlapping it. The first round runs at start. stop() waits for a running
 * round, so what it decided is saved before storage closes.
 */
export class AnalysisLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private isStopped = true;
  private completed = 0;

  constructor(private readonly options: AnalysisLoopOptions) {}

  /** Rounds finished (ok or failed) since start: tests wait on it. */
  rounds(): number {
    return this.completed;
  }

  start(): void {
    this.isStopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.isStopped) return;
    this.timer = setTimeout(() => {
      const startedMs = Date.now();
      this.running = this.round().finally(() => {
        this.running = undefined;
        this.schedule(Math.max(0, this.options.intervalMs - (Date.now() - startedMs)));
      });
    }, delayMs);
    this.timer.unref();
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
