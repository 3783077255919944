/**
 * kill -9 while a span segment holds spans already counted and stored (docs/deploy.md, "Crash recovery"):
 * a real meshsight process takes one acknowledged Zipkin request of root spans, so one span segment holds
 * them all; the tail sampler's buffer bound decides the oldest two thirds at once, whose metrics the next
 * flush drains and stores while the rest still wait for their decision, so the segment stays on disk. After
 * SIGKILL and a restart on the same storage the segment is replayed: every span is stored once and counts
 * its call exactly once.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { killIfRunning, stopWith, waitForHttpPort, waitForListeningPort, type CliRun } from "../cli/cli-process.ts";
import { waitFor } from "../support/wait-for.ts";
import { CRASH_BACKENDS, scraped, startMeshsight, storedServiceCalls, storedSpans, TRACES_KEPT_AFTER_A_LONG_WAIT, walSettings } from "./crash-process.ts";
import { postZipkin } from "./span-senders.ts";

const SPANS = 150;
/** Over this many waiting spans the sampler decides the oldest traces down to half of it: 100 of the 150. */
const MAX_BUFFERED_SPANS = 100;
const DECIDED_BEFORE_KILL = SPANS - MAX_BUFFERED_SPANS / 2;
const SERVICE = "spancrash";
const DEADLINE_MS = 60_000;

const runs: CliRun[] = [];
after(() => runs.forEach(killIfRunning));

for (const backend of CRASH_BACKENDS) {
  void describe(`span write-ahead buffer on ${backend.name}`, () => {
    void it("spans whose metrics were stored before a SIGKILL are stored once and not counted again when their segment is replayed", async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "meshsight-span-crash-"));
      const store = await backend.prepare(dataDir);
      // Traces wait far longer than the test: only the buffer bound decides them before the kill.
      const env = {
        ...walSettings(dataDir, 1),
        ...store.env(),
        ...TRACES_KEPT_AFTER_A_LONG_WAIT,
        MESHSIGHT_TRACE_MAX_BUFFERED_SPANS: String(MAX_BUFFERED_SPANS),
        MESHSIGHT_SPAN_METRICS: "all",
      };
      try {
        const first = startMeshsight(env, runs);
        const base = `http://127.0.0.1:${await waitForHttpPort(first)}`;
        const traceIds = await postZipkin(await waitForListeningPort(first, "zipkin"), SERVICE, SPANS);
        assert.equal(await scraped(base, "meshsight_trace_sampling_decisions_total"), DECIDED_BEFORE_KILL, "the buffer bound decided the oldest traces");
        await waitFor(
          async () => (await scraped(base, "meshsight_flush_rows_written_total", 'kind="metrics"')) >= 1 && (await scraped(base, "meshsight_trace_spans_awaiting_storage")) === 0,
          "the decided spans' metrics and spans to be stored",
          DEADLINE_MS,
        );
        // Flushes sealed it and went on to later segments; it stays for its undecided spans.
        assert.ok((await readdir(join(dataDir, "wal", "spans"))).includes("000000000001.wal"), "the request's segment is still on disk");
        first.child.kill("SIGKILL");
        await first.exited();

        const second = startMeshsight(env, runs);
        const secondBase = `http://127.0.0.1:${await waitForHttpPort(second)}`;
        assert.equal(await scraped(secondBase, "meshsight_wal_replayed_spans_total"), SPANS);
        const { code } = await stopWith(second, "SIGTERM");
        assert.equal(code, 0, second.stderr());
        assert.deepEqual(await readdir(join(dataDir, "wal", "spans")), [], "a clean stop settled and committed the span segment");

        const storage = store.open();
        await storage.start();
        try {
          assert.deepEqual(await storedServiceCalls(storage), { [SERVICE]: SPANS });
          assert.equal(await storedSpans(storage, traceIds), SPANS, "every span is stored once");
        } finally {
          await storage.close();
        }
      } finally {
        await store.cleanup();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
}
