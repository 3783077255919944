import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pino from "pino";
import { Registry } from "prom-client";
import { identityFromStatic } from "../../collector/receivers/access-log/source-identity.ts";
import { ingestStream } from "../../collector/receivers/access-log/stream-ingest.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { RejectCounter } from "../../core/telemetry/rejects.ts";
import { startTestCollector } from "../support/test-collector.ts";

const LINES = 20_000;
/** One line in this many carries values never seen before (cluster, addresses, path, authority, SNI, flags). */
const NEW_VALUES_EVERY = 100;
/** What the collector may keep per line of new values: its memo entries and open aggregates, not its block. */
const MAX_BYTES_KEPT_PER_NEW_LINE = 45_000;

/** Letters only, so the values are names, never ids the endpoint grouper would fold. */
const word = (n: number): string => n.toString(26).replace(/[0-9]/g, (digit) => "qrstuvwxyz"[Number(digit)] ?? "q");

function line(n: number, isInbound: boolean, timeMs: number): string {
  const time = new Date(timeMs).toISOString();
  const name = word(n);
  const ip = `${(n >> 8) & 255}.${n & 255}`;
  if (isInbound) {
    return `[${time}] "GET /inbound-${name}/page HTTP/1.1" 200 - via_upstream - "-" 0 10 5 4 "-" "agent-${name}" "id-${n}-aaaaaaaaaaaaaaaaaaaaaaaaaaaa" "host-${name}.example:9080" "10.9.${ip}:9080" inbound|9080|http-${name}|reviews-${name}.default.svc.cluster.local 127.0.0.6:40000 10.1.${ip}:9080 10.2.${ip}:40001 outbound_.9080_._.reviews-${name}.default.svc.cluster.local default`;
  }
  return `[${time}] "POST /outbound-${name}/call HTTP/1.1" 503 UF,URX,UO,UH,DC upstream_reset - "-" 0 10 5 4 "-" "agent-${name}" "id-${n}-bbbbbbbbbbbbbbbbbbbbbbbbbbbb" "svc-${name}:9080" "10.3.${ip}:9080" outbound|9080|v1|svc-${name}.default.svc.cluster.local 10.4.${ip}:40002 10.5.${ip}:9080 10.6.${ip}:40003 - default`;
}

void test("values the collector keeps from access-log lines never keep the block of lines they were read from", async () => {
  // Lines are decoded a block (~64 KiB) at a time and parsed in place: a memo key, a learned name, an endpoint
  // or a held call that kept a view into its block instead of a copy would keep ~64 KiB per new value.
  setFlagsFromString("--expose-gc");
  const collectGarbage = runInNewContext("gc") as () => void;
  const logger = pino({ level: "silent" });
  const storage = new DuckDbStorage({ path: ":memory:", retention: { minuteDays: 1000, hourDays: 1000, dayDays: 1000 } as never, logger });
  const running = await startTestCollector({ storage, logger });
  try {
    const proxy = identityFromStatic({ service: "reviews", namespace: "default" });
    const rejects = new RejectCounter(new Registry(), logger);
    const nowMs = Date.now();
    const input = (withNewValues: boolean): Buffer =>
      Buffer.from(`${Array.from({ length: LINES }, (_, index) => line(withNewValues && index % NEW_VALUES_EVERY === 0 ? 1_000_000 + index : 1, index % 2 === 0, nowMs - 30_000)).join("\n")}\n`);
    const ingest = (bytes: Buffer): ReturnType<typeof ingestStream> => ingestStream(Readable.from([bytes]), { format: "istio", proxy, ingest: running.collector.pipeline, rejects });
    // The same path once before measuring, so code and the repeated values are in place.
    await ingest(input(false));
    const bytes = input(true);
    collectGarbage();
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const totals = await ingest(bytes);
    collectGarbage();
    collectGarbage();
    const keptPerNewLine = (process.memoryUsage().heapUsed - before) / (LINES / NEW_VALUES_EVERY);
    assert.equal(totals.accepted, LINES);
    assert.ok(keptPerNewLine < MAX_BYTES_KEPT_PER_NEW_LINE, `${Math.round(keptPerNewLine)} bytes kept per line of new values`);
  } finally {
    await running.stop();
    await storage.close();
  }
});
