import type { Logger } from "pino";
import type { Component } from "../../core/lifecycle.ts";
import { jitterOffsetMs, type ProbeCase } from "../case.ts";
import type { CatalogChange, ProbeCatalog } from "../catalog.ts";
import { runKey, type ProbeRunner } from "../runner/probe-runner.ts";

export interface ResidentLoopsOptions {
  catalog: ProbeCatalog;
  runner: ProbeRunner;
  logger: Logger;
  onScheduleDelay?: (delayMs: number) => void;
  now?: () => number;
}

interface Loop {
  timer: NodeJS.Timeout | undefined;
  running: Promise<unknown> | undefined;
  isCancelled: boolean;
}

/**
 * Resident mode (KubeProbe's ProbeOperator): cases marked `resident: true` run in a loop inside this
 * process, one loop per (case, target), at their interval (down to 1 s) with no queue round-trip. A run
 * that outlasts its interval makes the loop skip the ticks it missed rather than queue them up. Results
 * take the same path as queued runs (batched storage, metrics, analyzer). Every process runs its own
 * resident loops: resident cases are meant for per-process or per-cluster checks.
 */
export class ResidentLoops implements Component {
  readonly name = "probe-resident-loops";
  private readonly loops = new Map<string, Loop>();
  private readonly now: () => number;
  private isStopped = false;

  constructor(private readonly options: ResidentLoopsOptions) {
    this.now = options.now ?? Date.now;
  }

  get loopCount(): number {
    return this.loops.size;
  }

  async start(): Promise<void> {
    this.options.catalog.onChange(async (change) => this.apply(change));
    for (const probe of this.options.catalog.list()) this.startLoops(probe);
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    const running = [...this.loops.values()].map((loop) => this.cancel(loop));
    this.loops.clear();
    await Promise.allSettled(running);
  }

  private apply(change: CatalogChange): void {
    const previous = change.type === "upsert" ? change.previous : change.probe;
    if (previous?.resident) {
      for (const target of previous.targets) {
        const key = runKey(previous.name, target);
        const loop = this.loops.get(key);
        if (loop) void this.cancel(loop);
        this.loops.delete(key);
      }
    }
    if (change.type === "upsert") this.startLoops(change.probe);
  }

  private startLoops(probe: ProbeCase): void {
    if (this.isStopped || !probe.resident || probe.schedule.type !== "every") return;
    for (const target of probe.targets) {
      const loop: Loop = { timer: undefined, running: undefined, isCancelled: false };
      this.loops.set(runKey(probe.name, target), loop);
      this.armNext(loop, probe, target);
    }
  }

  private armNext(loop: Loop, probe: ProbeCase, target: string): void {
    if (loop.isCancelled || probe.schedule.type !== "every") return;
    const { everyMs, jitterMs } = probe.schedule;
    const nowMs = this.now();
    const offsetMs = jitterOffsetMs(probe.name, target, jitterMs);
    // Next boundary + offset strictly after now: missed ticks are skipped, the period stays steady.
    let dueMs = Math.floor((nowMs - offsetMs) / everyMs) * everyMs + everyMs + offsetMs;
    if (dueMs <= nowMs) dueMs += everyMs;
    loop.timer = setTimeout(() => {
      this.options.onScheduleDelay?.(this.now() - dueMs);
      loop.running = this.options.runner
        .run(probe, target)
        .catch((error: unknown) => this.options.logger.error({ probe: probe.name, target, error: String(error) }, "resident run failed"))
        .finally(() => {
          loop.running = undefined;
          this.armNext(loop, probe, target);
        });
    }, dueMs - nowMs);
    loop.timer.unref();
  }

  private async cancel(loop: Loop): Promise<void> {
    loop.isCancelled = true;
    clearTimeout(loop.timer);
    await loop.running;
  }
}
