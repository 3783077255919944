/**
 * One suite for every JobQueue adapter (the Jaeger storage-integration idea): each adapter's test file
 * says how to open a fresh queue and plugs into the same cases, so inline and BullMQ cannot drift.
 *
 * `open()` must return an empty queue built with `maxPending: CONFORMANCE_MAX_PENDING`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PermanentJobError, QueueFullError, type Job, type JobQueue } from "../../../core/queue/port.ts";
import { Gate, recordJob, TIMING_TOLERANCE_MS } from "./helpers.ts";
import { waitFor } from "../../support/wait-for.ts";

export const CONFORMANCE_MAX_PENDING = 8;

type Open = () => Promise<{ queue: JobQueue; cleanup(): Promise<void> }>;

export function runQueueConformance(name: string, open: Open): void {
  /** Every case gets its own queue and always cleans it up, even when an assertion fails. */
  const withQueue = async (body: (queue: JobQueue) => Promise<void>): Promise<void> => {
    const opened = await open();
    try {
      await body(opened.queue);
    } finally {
      await opened.cleanup();
    }
  };

  void describe(`JobQueue conformance: ${name}`, () => {
    void it("runs an added job once with its data, id and first attempt", () =>
      withQueue(async (queue) => {
        const seen: Job<{ probe: string }>[] = [];
        const id = await queue.add("q", { probe: "http-check" });
        queue.work<{ probe: string }>("q", recordJob((job) => seen.push(job)), { concurrency: 1 });
        await waitFor(() => seen.length === 1, "the job to run");
        assert.deepEqual(seen[0], { id, queue: "q", data: { probe: "http-check" }, attempt: 1 });
        await waitFor(async () => (await queue.counts("q")).completed === 1, "the completion to count");
        assert.equal(seen.length, 1);
      }));

    void it("hands job data over as JSON, as a stored job would be", () =>
      withQueue(async (queue) => {
        const seen: unknown[] = [];
        queue.work("q", recordJob((job) => seen.push(job.data)), { concurrency: 1 });
        const payload = { at: new Date(Date.UTC(2024, 0, 2)), nested: { list: [1, "two"] }, skipped: undefined };
        await queue.add("q", payload);
        payload.nested.list.push(3);
        await waitFor(() => seen.length === 1, "the job to run");
        assert.deepEqual(seen[0], { at: "2024-01-02T00:00:00.000Z", nested: { list: [1, "two"] } });
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        await assert.rejects(queue.add("q", cyclic), /JSON-serializable/);
      }));

    void it("does not run a delayed job before its delay", () =>
      withQueue(async (queue) => {
        let ranAtMs = 0;
        queue.work("q", recordJob(() => (ranAtMs = Date.now())), { concurrency: 1 });
        const addedAtMs = Date.now();
        await queue.add("q", {}, { delayMs: 300 });
        assert.equal((await queue.counts("q")).delayed, 1);
        await waitFor(() => ranAtMs > 0, "the delayed job to run");
        assert.ok(ranAtMs - addedAtMs >= 300 - TIMING_TOLERANCE_MS, `ran after ${ranAtMs - addedAtMs} ms`);
      }));

    void it("retries with exponential backoff, then dead-letters with the last error", () =>
      withQueue(async (queue) => {
        const triedAtMs: number[] = [];
        queue.work<{ target: string }>(
          "q",
          (job) => {
            triedAtMs.push(Date.now());
            return Promise.reject(new Error(`connect refused on try ${job.attempt}`));
          },
          { concurrency: 1 },
        );
        const id = await queue.add("q", { target: "svc" }, { attempts: 3, backoff: { type: "exponential", delayMs: 80 } });
        await waitFor(async () => (await queue.deadLetters("q", 10)).length === 1, "the job to be dead-lettered");
        assert.equal(triedAtMs.length, 3);
        const [first = 0, second = 0, third = 0] = triedAtMs;
        assert.ok(second - first >= 80 - TIMING_TOLERANCE_MS, `first retry after ${second - first} ms`);
        assert.ok(third - second >= 160 - TIMING_TOLERANCE_MS, `second retry after ${third - second} ms`);
        const [failed] = await queue.deadLetters("q", 10);
        assert.equal(failed?.id, id);
        assert.equal(failed?.queue, "q");
        assert.deepEqual(failed?.data, { target: "svc" });
        assert.equal(failed?.attempts, 3);
        assert.equal(failed?.error, "connect refused on try 3");
        assert.ok(Math.abs((failed?.failedAtMs ?? 0) - Date.now()) < 5_000);
        assert.equal((await queue.counts("q")).failed, 1);
      }));

    void it("waits the fixed backoff between retries and succeeds on a later try", () =>
      withQueue(async (queue) => {
        const attempts: { attempt: number; atMs: number }[] = [];
        queue.work(
          "q",
          recordJob((job) => {
            attempts.push({ attempt: job.attempt, atMs: Date.now() });
            if (job.attempt < 2) throw new Error("flaky");
          }),
          { concurrency: 1 },
        );
        await queue.add("q", {}, { attempts: 4, backoff: { type: "fixed", delayMs: 120 } });
        await waitFor(async () => (await queue.counts("q")).completed === 1, "the retry to succeed");
        assert.deepEqual(attempts.map((entry) => entry.attempt), [1, 2]);
        const gapMs = (attempts[1]?.atMs ?? 0) - (attempts[0]?.atMs ?? 0);
        assert.ok(gapMs >= 120 - TIMING_TOLERANCE_MS, `retried after ${gapMs} ms`);
        assert.deepEqual(await queue.deadLetters("q", 10), []);
      }));

    void it("fails a PermanentJobError at once without retrying", () =>
      withQueue(async (queue) => {
        let calls = 0;
        queue.work(
          "q",
          recordJob(() => {
            calls += 1;
            throw new PermanentJobError("probe spec is invalid: missing url");
          }),
          { concurrency: 1 },
        );
        await queue.add("q", {}, { attempts: 5, backoff: { type: "fixed", delayMs: 10 } });
        await waitFor(async () => (await queue.deadLetters("q", 10)).length === 1, "the job to be dead-lettered");
        const [failed] = await queue.deadLetters("q", 10);
        assert.match(failed?.error ?? "", /probe spec is invalid: missing url/);
        assert.equal(failed?.attempts, 1);
        assert.equal(calls, 1);
        const counts = await queue.counts("q");
        assert.equal(counts.delayed + counts.waiting + counts.active, 0);
      }));

    void it("never runs more jobs at once than the worker's concurrency", () =>
      withQueue(async (queue) => {
        const gate = new Gate();
        let running = 0;
        let maxRunning = 0;
        let finished = 0;
        for (let index = 0; index < 6; index += 1) await queue.add("q", { index });
        queue.work(
          "q",
          async () => {
            running += 1;
            maxRunning = Math.max(maxRunning, running);
            await gate.opened;
            running -= 1;
            finished += 1;
          },
          { concurrency: 2 },
        );
        await waitFor(() => running === 2, "two jobs to start");
        await waitFor(async () => (await queue.counts("q")).active === 2, "the queue to show them active");
        const held = await queue.counts("q");
        assert.equal(held.waiting, 4, "jobs beyond the concurrency must stay waiting");
        assert.equal(running, 2);
        gate.open();
        await waitFor(() => finished === 6, "all jobs to finish");
        assert.equal(maxRunning, 2);
      }));

    void it("does not add a job whose jobId is still pending, but does once it has finished", () =>
      withQueue(async (queue) => {
        const first = await queue.add("q", { copy: 1 }, { jobId: "probe-checkout" });
        const second = await queue.add("q", { copy: 2 }, { jobId: "probe-checkout" });
        assert.equal(first, "probe-checkout");
        assert.equal(second, "probe-checkout");
        assert.equal((await queue.counts("q")).waiting, 1);
        const copies: number[] = [];
        queue.work<{ copy: number }>("q", recordJob((job) => copies.push(job.data.copy)), { concurrency: 1 });
        await waitFor(() => copies.length === 1, "the job to run");
        await waitFor(async () => (await queue.counts("q")).completed === 1, "the job to complete");
        assert.equal(await queue.add("q", { copy: 3 }, { jobId: "probe-checkout" }), "probe-checkout");
        await waitFor(() => copies.length === 2, "the re-added job to run");
        assert.deepEqual(copies, [1, 3]);
      }));

    void it("accepts any non-empty string as jobId and hands it back unchanged", () =>
      withQueue(async (queue) => {
        const oddIds = ["42", "probe:checkout:eu-west", "100%:done", "id-already-prefixed"];
        for (const jobId of oddIds) assert.equal(await queue.add("q", { jobId }, { jobId }), jobId);
        const seen: string[] = [];
        queue.work<{ jobId: string }>(
          "q",
          recordJob((job) => {
            assert.equal(job.id, job.data.jobId);
            seen.push(job.id);
          }),
          { concurrency: 1 },
        );
        await waitFor(async () => (await queue.counts("q")).completed === oddIds.length, "every job to complete");
        assert.deepEqual([...seen].sort(), [...oddIds].sort());
      }));

    void it("lists dead letters newest first, up to the limit", () =>
      withQueue(async (queue) => {
        queue.work<{ order: number }>(
          "q",
          recordJob((job) => {
            throw new PermanentJobError(`failure ${job.data.order}`);
          }),
          { concurrency: 1 },
        );
        for (const order of [1, 2, 3]) {
          await queue.add("q", { order });
          await waitFor(async () => (await queue.counts("q")).failed === order, `failure ${order}`);
        }
        const newestTwo = await queue.deadLetters("q", 2);
        assert.deepEqual(newestTwo.map((failed) => failed.error), ["failure 3", "failure 2"]);
        assert.deepEqual(await queue.deadLetters("q", 0), []);
        assert.equal((await queue.deadLetters("q", 10)).length, 3);
      }));

    void it("runs an everyMs schedule repeatedly and an upsert replaces it", () =>
      withQueue(async (queue) => {
        const versions: number[] = [];
        queue.work<{ version: number }>("q", recordJob((job) => versions.push(job.data.version)), { concurrency: 1 });
        await queue.upsertSchedule("q", "probe-a", { everyMs: 100 }, { version: 1 });
        await waitFor(() => versions.filter((v) => v === 1).length >= 2, "two runs of version 1", 8_000, () => versions.join(","));
        await queue.upsertSchedule("q", "probe-a", { everyMs: 100 }, { version: 2 });
        await waitFor(() => versions.filter((v) => v === 2).length >= 2, "two runs of version 2", 8_000, () => versions.join(","));
        const afterReplace = versions.slice(versions.indexOf(2));
        assert.ok(!afterReplace.includes(1), `the replaced schedule still ran: ${versions.join(",")}`);
      }));

    void it("stops a schedule on removeSchedule", () =>
      withQueue(async (queue) => {
        let scheduledRuns = 0;
        let markerRan = false;
        queue.work<{ marker?: boolean }>(
          "q",
          recordJob((job) => {
            if (job.data.marker) markerRan = true;
            else scheduledRuns += 1;
          }),
          { concurrency: 1 },
        );
        await queue.upsertSchedule("q", "probe:b", { everyMs: 50 }, {});
        await waitFor(() => scheduledRuns >= 2, "two scheduled runs");
        await queue.removeSchedule("q", "probe:b");
        const runsAtRemoval = scheduledRuns;
        // The marker job is the clock: by the time it runs, 8 more ticks would have fired.
        await queue.add("q", { marker: true }, { delayMs: 400 });
        await waitFor(() => markerRan, "the marker job");
        assert.ok(scheduledRuns <= runsAtRemoval + 1, `${scheduledRuns - runsAtRemoval} runs after removal`);
      }));

    void it("accepts a cron pattern and rejects a malformed one", () =>
      withQueue(async (queue) => {
        const runs: string[] = [];
        queue.work<{ probe: string }>("q", recordJob((job) => runs.push(job.data.probe)), { concurrency: 1 });
        await queue.upsertSchedule("q", "probe:dns:every-second", { pattern: "* * * * * *" }, { probe: "dns" });
        await waitFor(() => runs.length >= 1, "the cron schedule to fire", 5_000);
        assert.equal(runs[0], "dns");
        await queue.removeSchedule("q", "probe:dns:every-second");
        await assert.rejects(queue.upsertSchedule("q", "broken", { pattern: "not a cron" }, {}), /cron/i);
      }));

    void it("counts waiting, delayed, completed and failed jobs", () =>
      withQueue(async (queue) => {
        await queue.add("q", { fail: false });
        await queue.add("q", { fail: true });
        await queue.add("q", { fail: false }, { delayMs: 60_000 });
        assert.deepEqual(await queue.counts("q"), { waiting: 2, delayed: 1, active: 0, failed: 0, completed: 0 });
        queue.work<{ fail: boolean }>(
          "q",
          recordJob((job) => {
            if (job.data.fail) throw new Error("expected failure");
          }),
          { concurrency: 1 },
        );
        await waitFor(async () => {
          const counts = await queue.counts("q");
          return counts.completed === 1 && counts.failed === 1;
        }, "both ready jobs to finish");
        assert.deepEqual(await queue.counts("q"), { waiting: 0, delayed: 1, active: 0, failed: 1, completed: 1 });
        assert.deepEqual(await queue.counts("never-used"), { waiting: 0, delayed: 0, active: 0, failed: 0, completed: 0 });
      }));

    void it("throws QueueFullError when waiting plus delayed jobs reach maxPending", () =>
      withQueue(async (queue) => {
        for (let index = 0; index < CONFORMANCE_MAX_PENDING; index += 1) {
          await queue.add("q", { index }, index % 2 === 0 ? {} : { delayMs: 60_000 });
        }
        await assert.rejects(queue.add("q", { index: "one too many" }), (error: unknown) => {
          assert.ok(error instanceof QueueFullError);
          assert.equal(error.queue, "q");
          assert.equal(error.limit, CONFORMANCE_MAX_PENDING);
          return true;
        });
        // The bound is per queue: another queue still accepts work.
        assert.match(await queue.add("other", {}), /.+/);
      }));

    void it("rejects invalid job options with a clear error", () =>
      withQueue(async (queue) => {
        await assert.rejects(queue.add("q", {}, { attempts: 0 }), /attempts/);
        await assert.rejects(queue.add("q", {}, { delayMs: -1 }), /delayMs/);
        await assert.rejects(queue.upsertSchedule("q", "s", { everyMs: 0 }, {}), /everyMs/);
        assert.throws(() => queue.work("q", recordJob(() => {}), { concurrency: 0 }), /concurrency/);
        assert.deepEqual(await queue.counts("q"), { waiting: 0, delayed: 0, active: 0, failed: 0, completed: 0 });
      }));

    void it("refuses a second worker for the same queue", () =>
      withQueue(async (queue) => {
        queue.work("q", recordJob(() => {}), { concurrency: 1 });
        assert.throws(() => queue.work("q", recordJob(() => {}), { concurrency: 1 }), /already has a worker/);
        await queue.add("q", {});
        await waitFor(async () => (await queue.counts("q")).completed === 1, "the first worker to still run jobs");
      }));

    void it("answers ping while open", () =>
      withQueue(async (queue) => {
        assert.equal(await queue.ping(), true);
      }));

    void it("close() waits for the running job to finish", () =>
      withQueue(async (queue) => {
        const gate = new Gate();
        const events: string[] = [];
        queue.work(
          "q",
          async () => {
            events.push("job started");
            await gate.opened;
            events.push("job finished");
          },
          { concurrency: 1 },
        );
        await queue.add("q", {});
        await waitFor(() => events.includes("job started"), "the job to start");
        const closing = queue.close().then(() => void events.push("closed"));
        // From the call on the queue refuses work, while the held job still counts as running (for BullMQ
        // a round trip to Redis, in which a close() that did not wait would settle).
        await assert.rejects(queue.add("q", {}), /closed/);
        await waitFor(async () => (await queue.counts("q")).active === 1, "the held job to count as active while closing");
        assert.deepEqual(events, ["job started"], "close() settled while a job was still running");
        gate.open();
        await closing;
        assert.deepEqual(events, ["job started", "job finished", "closed"]);
      }));
  });
}
