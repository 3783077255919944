import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ANALYSIS_TICKS_QUEUE, AnalysisLoop } from "../../analyzer/analysis-loop.ts";
import { BullMqQueue } from "../../core/queue/bullmq.ts";
import { InlineQueue } from "../../core/queue/inline.ts";
import type { JobQueue } from "../../core/queue/port.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { useRedis, type RunningService } from "../services/index.ts";
import { waitFor } from "../support/wait-for.ts";

const logger = createLogger({ level: "silent" });

/** Counts rounds across loops and the most that ever ran at once. */
class RoundProbe {
  started = 0;
  finished = 0;
  maxAtOnce = 0;
  private running = 0;
  hold: Promise<void> | undefined;

  readonly runRound = async (): Promise<void> => {
    this.started++;
    this.running++;
    this.maxAtOnce = Math.max(this.maxAtOnce, this.running);
    try {
      await (this.hold ?? new Promise((resolve) => setImmediate(resolve)));
    } finally {
      this.running--;
      this.finished++;
    }
  };
}

function loopOn(queue: JobQueue, probe: RoundProbe, intervalMs: number, isRoundAtStart = false): AnalysisLoop {
  return new AnalysisLoop({ queue, intervalMs, isRoundAtStart, runRound: probe.runRound, now: Date.now, logger, onRound: () => undefined });
}

describe("analysis loop driven by the queue", () => {
  let redis: RunningService;
  const queues: JobQueue[] = [];
  before(async () => {
    redis = await useRedis();
  });
  after(async () => {
    for (const queue of queues) await queue.close();
    await redis.stop();
  });

  it("in-process: a round still running absorbs the ticks that come meanwhile instead of overlapping", async () => {
    const queue = new InlineQueue({ maxPending: 10, logger });
    queues.push(queue);
    const probe = new RoundProbe();
    let release = (): void => undefined;
    probe.hold = new Promise((resolve) => (release = resolve));
    const loop = loopOn(queue, probe, 100);
    await loop.start();
    await waitFor(async () => (await queue.counts(ANALYSIS_TICKS_QUEUE)).completed >= 4, "four ticks during the first round", 5_000);
    assert.equal(probe.started, 1);
    probe.hold = undefined;
    release();
    await waitFor(() => loop.rounds() >= 3, "rounds to go on after the slow one", 5_000);
    await loop.stop();
    assert.equal(probe.maxAtOnce, 1);
  });

  it("in-process: a process alone runs its first round at start, not an interval later", async () => {
    const queue = new InlineQueue({ maxPending: 10, logger });
    queues.push(queue);
    const probe = new RoundProbe();
    const loop = loopOn(queue, probe, 3_600_000, true);
    await loop.start();
    await waitFor(() => loop.rounds() === 1, "the round at start", 5_000);
    await loop.stop();
  });

  it("BullMQ: two processes' loops share the schedule, so each interval has one round in one of them", async () => {
    const prefix = `loop${randomBytes(3).toString("hex")}`;
    const [first, second] = [0, 1].map(() => new BullMqQueue({ url: redis.url, prefix, maxPending: 100, logger }));
    queues.push(first!, second!);
    const probe = new RoundProbe();
    const intervalMs = 200;
    const loops = [loopOn(first!, probe, intervalMs), loopOn(second!, probe, intervalMs)];
    for (const loop of loops) await loop.start();
    await waitFor(() => probe.finished >= 1, "the first round", 10_000);
    const startedMs = Date.now();
    const before = probe.finished;
    await waitFor(() => probe.finished >= before + 8, "eight more rounds", 10_000);
    const elapsedMs = Date.now() - startedMs;
    for (const loop of loops) await loop.stop();
    // Eight rounds span at least seven interval boundaries; one loop each would take about half of that.
    assert.ok(elapsedMs >= 6.5 * intervalMs, `8 rounds in ${elapsedMs} ms`);
    assert.equal(probe.maxAtOnce, 1);
    assert.equal(loops[0]!.rounds() + loops[1]!.rounds(), probe.finished);
  });
});
