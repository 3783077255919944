/**
 * kill -9 with the write-ahead buffer on (docs/deploy.md, "Crash recovery"): a real meshsight process takes
 * ~1,000 Envoy ALS entries/s over real gRPC, acknowledged POST /api/v1/logs lines and acknowledged spans
 * (OTLP/gRPC, OTLP/HTTP, Zipkin) still waiting for their tail-sampling decision, is killed with SIGKILL
 * while what it received since its last flush lives only in memory and the buffer, and is started again on
 * the same storage. Every call must be stored exactly once: what the first flush stored is not replayed, and
 * what the kill would have lost is recovered; every acknowledged span is stored and counts its call once.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import { killIfRunning, stopWith, waitForHttpPort, waitForListeningPort, type CliRun } from "../cli/cli-process.ts";
import { waitFor } from "../support/wait-for.ts";
import { CRASH_BACKENDS, expectedServiceCalls, scraped, sentEntries, startMeshsight, storedServiceCalls, storedSpans, TRACES_KEPT_AFTER_A_LONG_WAIT, walSettings } from "./crash-process.ts";
import { inboundLine } from "./inbound-lines.ts";
import { sendRootSpans } from "./span-senders.ts";

/** ~9 ALS entries per bookinfo request: 111 requests/s is ~1,000 entries/s. */
const REQUESTS_PER_SECOND = 111;
const PHASE_MS = 2_000;
const POSTED_LINES = 300;
const POSTED_SERVICE = "walpost.default";
const DEADLINE_MS = 60_000;
const SPANS_PER_PROTOCOL = 40;
const SPAN_SERVICES = { otlpGrpc: "walspan-grpc", otlpHttp: "walspan-http", zipkin: "walspan-zipkin" };

const runs: CliRun[] = [];
after(() => runs.forEach(killIfRunning));

async function postLines(base: string, count: number): Promise<void> {
  const now = Date.now();
  // Ten requests, each acknowledged before the next: the kill comes after the last acknowledgement.
  for (let request = 0; request < 10; request++) {
    const lines = Array.from({ length: count / 10 }, (_, index) => inboundLine(now - 1_000 + index));
    const response = await fetch(`${base}/api/v1/logs?format=istio&service=${POSTED_SERVICE}&instance=walpost-1.default`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: `${lines.join("\n")}\n`,
    });
    assert.equal(response.status, 200, await response.text());
  }
}

for (const backend of CRASH_BACKENDS) {
  void describe(`write-ahead buffer on ${backend.name}`, () => {
    void it("a process killed with SIGKILL at ~1,000 entries/s stores every acknowledged call exactly once after restart", async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "meshsight-wal-"));
      const store = await backend.prepare(dataDir);
      // A flush every 10 s: the kill falls well inside an interval, as it would without a buffer lose most.
      // Traces wait far longer than the test for their decision and all are kept: at the kill, no span is settled.
      const env = { ...walSettings(dataDir, 10), ...store.env(), ...TRACES_KEPT_AFTER_A_LONG_WAIT };
      try {
        const first = startMeshsight(env, runs);
        const base = `http://127.0.0.1:${await waitForHttpPort(first)}`;
        const target = `127.0.0.1:${await waitForListeningPort(first, "als")}`;
        const spanPorts = { otlpGrpc: await waitForListeningPort(first, "otlp-grpc"), otlpHttp: await waitForListeningPort(first, "otlp-http"), zipkin: await waitForListeningPort(first, "zipkin") };
        const traffic = { target, ratePerSecond: REQUESTS_PER_SECOND, durationMs: PHASE_MS, realTime: true };

        // Phase 1 reaches storage and its segments are committed: a replay must not count it again.
        const flushed = await simulateBookinfo(traffic);
        assert.deepEqual(flushed.streamErrors, []);
        await waitFor(
          async () => (await scraped(base, "meshsight_als_entries_total")) === sentEntries(flushed) && (await scraped(base, "meshsight_wal_commits_total")) >= 1 && (await scraped(base, "meshsight_wal_bytes")) === 0,
          "phase 1 to be stored and its buffer segments committed",
          DEADLINE_MS,
        );

        // Phase 2 and the POSTs exist only in memory and in the buffer when the process dies.
        const unflushed = await simulateBookinfo(traffic);
        assert.deepEqual(unflushed.streamErrors, []);
        await postLines(base, POSTED_LINES);
        const traceIds = await sendRootSpans(spanPorts, SPAN_SERVICES, SPANS_PER_PROTOCOL);
        assert.equal(await scraped(base, "meshsight_spans_received_total"), 3 * SPANS_PER_PROTOCOL, "every acknowledged span was taken");
        assert.ok((await scraped(base, "meshsight_wal_span_bytes")) > 0, "the spans are in the span buffer");
        await waitFor(async () => (await scraped(base, "meshsight_als_entries_total")) === sentEntries(flushed) + sentEntries(unflushed), "phase 2 to be handed over", DEADLINE_MS);
        assert.ok((await scraped(base, "meshsight_wal_bytes")) > 0, "phase 2 is still waiting for a flush");
        assert.equal(await scraped(base, "meshsight_wal_commits_total"), 1, "no flush ran since phase 1's");
        first.child.kill("SIGKILL");
        await first.exited();

        const second = startMeshsight(env, runs);
        const secondBase = `http://127.0.0.1:${await waitForHttpPort(second)}`;
        assert.equal(await scraped(secondBase, "meshsight_wal_replayed_entries_total"), sentEntries(unflushed) + POSTED_LINES);
        assert.equal(await scraped(secondBase, "meshsight_wal_replayed_spans_total"), 3 * SPANS_PER_PROTOCOL);
        const { code } = await stopWith(second, "SIGTERM");
        assert.equal(code, 0, second.stderr());
        assert.deepEqual(await readdir(join(dataDir, "wal", "spans")), [], "a clean stop settled and committed every span segment");

        const storage = store.open();
        await storage.start();
        try {
          const spanCalls = Object.fromEntries(Object.values(SPAN_SERVICES).map((service) => [service, SPANS_PER_PROTOCOL]));
          assert.deepEqual(await storedServiceCalls(storage), expectedServiceCalls([flushed, unflushed], { [POSTED_SERVICE]: POSTED_LINES, ...spanCalls }));
          assert.equal(await storedSpans(storage, traceIds), traceIds.length, "every acknowledged span is stored once");
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
