import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Counter } from "prom-client";
import { collectorQueryRoutes, runIngestCommand } from "../../collector/collector.ts";
import { collectorSection } from "../../collector/config.ts";
import { buildApp } from "../../core/http/app.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../../core/storage/port.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { RejectCounter } from "../../core/telemetry/rejects.ts";
import { clickHouseOnFreshDatabase } from "../core/storage/clickhouse/helpers.ts";
import { useClickHouse } from "../services/index.ts";

/**
 * `meshsight ingest` of a two-day-old log, in-process, into each storage: every line within retention is
 * stored at its own minute and read back at that range; out-of-order lines within the lateness are taken,
 * older stragglers are late, lines older than retention expired; the summary's reasons are exactly what
 * the run added to meshsight_rejected_total; and the same log ingested again counts twice.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
const RETENTION = { minuteDays: 7, hourDays: 30, dayDays: 365, samplesDays: 3, spansDays: 7, probeResultsDays: 14 };
const logger = pino({ level: "silent" });
/** A minute boundary two days ago: the log's first minute. */
const OLD = Math.floor((Date.now() - 2 * DAY) / MINUTE) * MINUTE;
const RANGE = `from=${OLD}&to=${OLD + 5 * MINUTE}`;

/** Istio's text format (https://istio.io/latest/docs/tasks/observability/logs/access-log/), an inbound (server-side) line of reviews. */
function inboundLine(timeMs: number, requestId: string): string {
  return `[${new Date(timeMs).toISOString()}] "GET /reviews/1 HTTP/1.1" 200 - via_upstream - "-" 0 295 7 6 "-" "curl/8.5.0" "${requestId}" "reviews:9080" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:41854 10.44.1.27:9080 10.44.1.23:37652 outbound_.9080_._.reviews.default.svc.cluster.local default`;
}

/**
 * Minute k of the log holds k + 1 calls (15 in all); one minute-1 line comes after minute 2's (out of order
 * by ~70 s, within the default 120 s lateness); then a minute-0 straggler after minute 4 (late), a line
 * ten days old (expired) and one that is no access-log line.
 */
function twoDayOldLog(): string {
  const lines: string[] = [];
  let id = 0;
  const at = (minute: number, second: number): void => void lines.push(inboundLine(OLD + minute * MINUTE + second * 1000, `r-${id++}`));
  at(0, 1);
  at(1, 1);
  for (const second of [1, 2, 3]) at(2, second);
  at(1, 50);
  for (const second of [1, 2, 3, 4]) at(3, second);
  for (const second of [1, 2, 3, 4, 5]) at(4, second);
  at(0, 30);
  lines.push(inboundLine(OLD - 8 * DAY, "r-expired"), "not an access-log line");
  return `${lines.join("\n")}\n`;
}

interface IngestRun {
  code: number;
  summary: string[];
  metricRejects: Record<string, number>;
}

async function ingest(storage: StorageAdapter, text: string): Promise<IngestRun> {
  const dataDir = mkdtempSync(join(tmpdir(), "meshsight-event-time-"));
  const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
  let output = "";
  try {
    const code = await runIngestCommand({
      options: { format: "istio", identity: { service: "reviews.default", instance: "reviews-v1-abc" }, files: [] },
      collectorConfig: collectorSection.schema.parse({ kubernetes: "off" }),
      retention: RETENTION,
      // The test owns the storage: it stays open between runs and for the queries after them.
      storage: { writer: storage, reader: storage, component: { name: "storage", start: async () => undefined, stop: async () => undefined } },
      dataDir,
      registry,
      rejects: new RejectCounter(registry, logger),
      logger,
      input: Readable.from([Buffer.from(text)]),
      progress: { isTTY: false, write: () => true },
      output: { write: (chunk: string) => (output += chunk) },
    });
    const metric = await (registry.getSingleMetric("meshsight_rejected_total") as Counter | undefined)?.get();
    const metricRejects = Object.fromEntries((metric?.values ?? []).map((value) => [`${String(value.labels.source)}/${String(value.labels.reason)}`, value.value]));
    return { code, summary: output.trimEnd().split("\n"), metricRejects };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function runAgainst(storageName: string, open: () => { storage: StorageAdapter; cleanup: () => Promise<void> }): void {
  void describe(`meshsight ingest of a two-day-old log on ${storageName}`, () => {
    const { storage, cleanup } = open();
    let app: ReturnType<typeof buildApp>;

    before(async () => {
      await storage.start();
      const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
      app = buildApp({ logger, registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: collectorQueryRoutes(storage) });
    });
    after(() => app.close().then(() => storage.close()).then(cleanup));

    /** What the query API answers at the log's own range. */
    const read = async <T>(path: string): Promise<T> => {
      const response = await app.inject({ method: "GET", url: `${path}${path.includes("?") ? "&" : "?"}${RANGE}` });
      assert.equal(response.statusCode, 200, response.body);
      return response.json<T>();
    };
    const callsPerMinute = async (): Promise<(number | null)[]> =>
      (await read<{ points: { v: number | null }[] }>("/api/v1/metrics?scope=service&service=reviews.default&metric=calls&step=minute")).points.map((point) => point.v);
    const serviceCalls = async (): Promise<unknown> => (await read<{ name: string; calls: number }[]>("/api/v1/services")).map((service) => [service.name, service.calls]);

    void it("stores every line within retention at its own minute, and says what it refused and which range it stored", async () => {
      const run = await ingest(storage, twoDayOldLog());
      assert.equal(run.code, 0, run.summary.join("\n"));
      assert.match(run.summary[0] ?? "", /^ingested 18 lines in [\d.]+ s \([\d,]+ lines\/s\): 15 accepted, 3 rejected$/);
      const range = `${new Date(OLD).toISOString().replace(":00.000Z", "Z")} to ${new Date(OLD + 5 * MINUTE).toISOString().replace(":00.000Z", "Z")}`;
      assert.deepEqual(run.summary.slice(1), ["rejects by reason: access-log/field_count 1, aggregate/expired 1, aggregate/late 1", `time range: ${range} (${RANGE})`]);
      assert.deepEqual(run.metricRejects, { "access-log/field_count": 1, "aggregate/expired": 1, "aggregate/late": 1 }, "the summary's reasons are the metric's");
      assert.deepEqual(await serviceCalls(), [["reviews.default", 15]]);
      assert.deepEqual(await callsPerMinute(), [1, 2, 3, 4, 5]);
    });

    void it("counts the same log twice when it is ingested twice", async () => {
      const run = await ingest(storage, twoDayOldLog());
      assert.equal(run.code, 0, run.summary.join("\n"));
      assert.match(run.summary[0] ?? "", /: 15 accepted, 3 rejected$/);
      assert.deepEqual(await serviceCalls(), [["reviews.default", 30]]);
      assert.deepEqual(await callsPerMinute(), [2, 4, 6, 8, 10]);
    });
  });
}

runAgainst("DuckDB", () => ({ storage: new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger }), cleanup: () => Promise.resolve() }));

const clickhouse = await useClickHouse();
after(() => clickhouse.stop());
runAgainst("ClickHouse", () => clickHouseOnFreshDatabase(clickhouse.url, "ms_event_time", RETENTION, logger));
