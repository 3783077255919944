/**
 * kill -9 in the middle of a flush's metric writes (docs/deploy.md, "Crash recovery"): a real meshsight
 * process with the write-ahead buffer on writes one metric row per storage write, so a flush is many
 * writes, and is killed with SIGKILL after storage took some of them but not all. On ClickHouse the kill
 * comes while a relay holds the reply to one INSERT the server has stored: the process dies not knowing its
 * write happened, the case that used to be counted twice. After a restart on the same storage every call
 * is stored exactly once.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import { killIfRunning, stopWith, waitForHttpPort, waitForListeningPort, type CliRun } from "../cli/cli-process.ts";
import { startClickHouseRelay, type ClickHouseRelay } from "../support/clickhouse-relay.ts";
import { waitFor } from "../support/wait-for.ts";
import { CRASH_BACKENDS, expectedServiceCalls, scraped, sentEntries, startMeshsight, storedServiceCalls, walSettings } from "./crash-process.ts";

/** ~9 ALS entries per bookinfo request: 111 requests/s is ~1,000 entries/s. */
const REQUESTS_PER_SECOND = 111;
const TRAFFIC_MS = 2_000;
const DEADLINE_MS = 60_000;
/** Metric INSERTs the relay passes on before it holds the reply to the next. */
const INSERTS_ANSWERED = 3;

const runs: CliRun[] = [];
after(() => runs.forEach(killIfRunning));

for (const backend of CRASH_BACKENDS) {
  void describe(`a crash during a flush's metric writes on ${backend.name}`, () => {
    void it("leaves storage, after a restart, with every call stored exactly once", async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "meshsight-flush-crash-"));
      const store = await backend.prepare(dataDir);
      const relay: ClickHouseRelay | undefined = store.serverUrl === undefined ? undefined : await startClickHouseRelay(store.serverUrl);
      const env = { ...walSettings(dataDir, 10), MESHSIGHT_FLUSH_BATCH_ROWS: "1" };
      try {
        const first = startMeshsight({ ...env, ...store.env(relay?.url) }, runs);
        const base = `http://127.0.0.1:${await waitForHttpPort(first)}`;
        const target = `127.0.0.1:${await waitForListeningPort(first, "als")}`;
        // Armed before the traffic, so the flush the kill cuts is the first one, holding all of it.
        const held = relay?.holdInsertReply("metrics_minute", INSERTS_ANSWERED);
        const traffic = await simulateBookinfo({ target, ratePerSecond: REQUESTS_PER_SECOND, durationMs: TRAFFIC_MS, realTime: true });
        assert.deepEqual(traffic.streamErrors, []);
        await waitFor(async () => (await scraped(base, "meshsight_als_entries_total")) === sentEntries(traffic), "the traffic to be handed over", DEADLINE_MS);

        const writtenRows = (): Promise<number> => scraped(base, "meshsight_flush_rows_written_total", 'kind="metrics"');
        if (held === undefined) await waitFor(async () => (await writtenRows()) > 0, "the flush's first metric writes", DEADLINE_MS);
        else await held;
        first.child.kill("SIGKILL");
        await first.exited();

        const second = startMeshsight({ ...env, ...store.env() }, runs);
        const secondBase = `http://127.0.0.1:${await waitForHttpPort(second)}`;
        const recovered = (outcome: string): Promise<number> => scraped(secondBase, "meshsight_flush_recovered_batches_total", `outcome="${outcome}"`);
        await waitFor(async () => (await recovered("written")) > 0 && (await scraped(secondBase, "meshsight_flush_pending_rows")) === 0, "the journaled batches to be written", DEADLINE_MS);
        assert.equal(await scraped(secondBase, "meshsight_wal_replayed_entries_total"), 0, "the journal, not the buffer's input, carried the drain");
        // The INSERT whose reply was held is found stored and not written again. (On DuckDB the kill lands
        // between writes, or rarely between a commit and its settling: the stored counts below cover both.)
        if (relay !== undefined) assert.equal(await recovered("stored_before"), 1);
        const { code } = await stopWith(second, "SIGTERM");
        assert.equal(code, 0, second.stderr());

        const storage = store.open();
        await storage.start();
        try {
          assert.deepEqual(await storedServiceCalls(storage), expectedServiceCalls([traffic], {}));
        } finally {
          await storage.close();
        }
      } finally {
        await relay?.cut();
        await store.cleanup();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
}
