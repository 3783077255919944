import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Writable } from "node:stream";
import { pino } from "pino";
import { BullMqQueue } from "../../../core/queue/bullmq.ts";
import { PermanentJobError } from "../../../core/queue/port.ts";
import { QueueUnavailableError } from "../../../core/queue/redis-connection.ts";
import { freePort, useRedis, type RunningService } from "../../services/index.ts";
import { recordJob } from "./helpers.ts";
import { waitFor } from "../../support/wait-for.ts";
import { CONFORMANCE_MAX_PENDING, runQueueConformance } from "./suite.ts";

let redis: RunningService | undefined;
before(async () => {
  redis = await useRedis();
});
after(async () => {
  await redis?.stop();
});

runQueueConformance("bullmq", () => {
  if (!redis) throw new Error("redis did not start");
  // A unique prefix per case keeps cases apart on the shared Redis without flushing it.
  const queue = new BullMqQueue({ url: redis.url, prefix: `conformance-${randomUUID()}`, maxPending: CONFORMANCE_MAX_PENDING, logger: pino({ level: "silent" }) });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

void describe("BullMqQueue", () => {
  void it("rejects a URL that is not redis:// without leaking its password", () => {
    assert.throws(
      () => new BullMqQueue({ url: "http://user:hunter2@example.com", prefix: "p", maxPending: 1, logger: pino({ level: "silent" }) }),
      (error: unknown) => error instanceof Error && /redis:\/\//.test(error.message) && !error.message.includes("hunter2"),
    );
  });

  void it("keeps only the newest maxDeadLetters failures in Redis", async () => {
    if (!redis) throw new Error("redis did not start");
    const queue = new BullMqQueue({ url: redis.url, prefix: `dead-letters-${randomUUID()}`, maxPending: 10, maxDeadLetters: 2, logger: pino({ level: "silent" }) });
    try {
      queue.work<{ order: number }>(
        "q",
        recordJob((job) => {
          throw new PermanentJobError(`failure ${job.data.order}`);
        }),
        { concurrency: 1 },
      );
      for (const order of [1, 2, 3]) {
        await queue.add("q", { order });
        await waitFor(async () => (await queue.deadLetters("q", 10)).some((failed) => failed.error === `failure ${order}`), `failure ${order}`);
      }
      assert.deepEqual((await queue.deadLetters("q", 10)).map((failed) => failed.error), ["failure 3", "failure 2"]);
      assert.equal((await queue.counts("q")).failed, 2);
    } finally {
      await queue.close();
    }
  });
});

void describe("BullMqQueue with Redis unreachable", () => {
  void it("fails add() with a clear error, answers ping false and logs the outage once", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const port = await freePort();
    const queue = new BullMqQueue({ url: `redis://:secret@127.0.0.1:${port}`, prefix: "unreachable", maxPending: 10, logger: pino({ level: "warn" }, sink) });
    try {
      const startedAtMs = Date.now();
      await assert.rejects(queue.add("q", {}), (error: unknown) => {
        assert.ok(error instanceof QueueUnavailableError, String(error));
        assert.match(error.message, /127\.0\.0\.1/);
        assert.equal(error.message.match(/unreachable/g)?.length, 1, error.message);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      });
      assert.ok(Date.now() - startedAtMs < 5_000, "add() must fail fast, not hang while reconnecting");
      assert.equal(await queue.ping(), false);
      const outageLines = lines.filter((line) => line.includes("redis unavailable"));
      assert.equal(outageLines.length, 1, `expected one rate-limited log line, got ${outageLines.length}`);
      assert.doesNotMatch(outageLines[0] ?? "", /secret/);
      // A worker waiting for Redis must not keep close() from finishing.
      queue.work("q", () => Promise.resolve(), { concurrency: 1 });
    } finally {
      await queue.close();
    }
  });
});
