import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { Logger } from "pino";
import type { EntityRecord } from "../../model/dimensions.ts";
import { RESOLUTION_MS, type MetricAggregate, type MinuteMetrics } from "../../model/metrics.ts";
import type { ProbeResult } from "../../model/probe.ts";
import type { SampledRecord } from "../../model/sample.ts";
import type { Span } from "../../model/span.ts";
import type { RejectCounter } from "../../telemetry/rejects.ts";
import {
  StorageUnavailableError,
  type EntityQuery,
  type BusiestSeries,
  type BusiestSeriesQuery,
  type MetricsQuery,
  type ProbeResultQuery,
  type ProbeSeriesPoint,
  type ProbeSeriesQuery,
  type RetentionPolicy,
  type SampleQuery,
  type StorageAdapter,
  type TopNQuery,
  type TraceQuery,
  type TraceSummary,
} from "../port.ts";
import { classifyDuckDbWriteError, errorMessage, IN_MEMORY, inTransaction, openDatabase, toNumber } from "./database.ts";
import { EntityWriter, invalidEntityReason, listEntities } from "./entity-store.ts";
import { METRICS_TABLE } from "./histogram-sql.ts";
import { memoryLimitSetting, trimMemory } from "./memory-trim.ts";
import { invalidMetricReason } from "./metric-rollup.ts";
import { MetricsReader } from "./metrics-reader.ts";
import { MetricsWriter } from "./metrics-writer.ts";
import { applyMigrations } from "./migrations.ts";
import { invalidProbeResultReason, ProbeResultWriter, probeSeries, queryProbeResults } from "./probe-store.ts";
import { appendSamples, invalidSampleReason, querySamples } from "./sample-store.ts";
import { getTrace, listSpanNames, listSpanServices, searchTraces } from "./span-reader.ts";
import { invalidSpanReason, SpanWriter } from "./span-store.ts";
import { WriteSerializer } from "./write-serializer.ts";
import { WriteGuard } from "../write-guard.ts";
import { WriteSpellTracker } from "../../write-spells.ts";

const DAY_MS = RESOLUTION_MS.day;
const REJECT_SOURCE = "storage.duckdb";
/** Writes allowed to wait behind the running one before callers are told to back off. */
const DEFAULT_MAX_WAITING_WRITES = 64;
/** How often the storage asks whether a spell of heavy writing has ended (memory-trim.ts). */
const TRIM_CHECK_MS = 60_000;
/**
 * Rows a check interval must have written to count as a spell worth trimming after: ~3,000 series and
 * entity rows in one 10 s flush. A trim costs a few milliseconds and re-reading what the next write needs.
 */
const MIN_SPELL_ROWS = 20_000;

export interface DuckDbStorageOptions {
  /** The database file, e.g. `./data/meshsight.duckdb` (its directory is created); ":memory:" for tests. */
  path: string;
  retention: RetentionPolicy;
  logger: Logger;
  /** Counts rows refused as invalid or malformed, and repaired values; without it they are still logged. */
  rejects?: RejectCounter;
  maxWaitingWrites?: number;
  /** DuckDB's memory_limit (its buffer pool and query memory); DuckDB's default when absent. */
  memoryLimitMiB?: number;
}

interface OpenState {
  instance: DuckDBInstance;
  writer: DuckDBConnection;
  metricsWriter: MetricsWriter;
  entityWriter: EntityWriter;
  spanWriter: SpanWriter;
  probeWriter: ProbeResultWriter;
}

/**
 * The embedded storage: one DuckDB file, no server. Writes go through one connection, one at a time, so
 * read-modify-write upserts cannot lose each other's sums; each read gets its own short-lived connection,
 * so reads run beside writes on DuckDB's snapshot isolation.
 */
export class DuckDbStorage implements StorageAdapter {
  readonly name = "duckdb";
  private state: OpenState | undefined;
  private starting: Promise<OpenState> | undefined;
  private readonly writes: WriteSerializer;
  private readonly guard: WriteGuard;
  private readonly metricsReader = new MetricsReader(() => this.connect());
  /** Reads under way, so close() can wait for them rather than pull the database from under them. */
  private readonly readsInFlight = new Set<Promise<unknown>>();
  private readonly spells = new WriteSpellTracker(MIN_SPELL_ROWS);
  private trimCheck: NodeJS.Timeout | undefined;
  /** Set while memory is trimmed: reads wait for it rather than run under the lowered limit. */
  private trimming: Promise<void> | undefined;

  constructor(private readonly options: DuckDbStorageOptions) {
    for (const [setting, days] of Object.entries(options.retention)) {
      if (!(typeof days === "number" && days > 0 && Number.isFinite(days))) throw new RangeError(`retention.${setting} must be a positive number of days, got ${String(days)}`);
    }
    this.writes = new WriteSerializer(options.maxWaitingWrites ?? DEFAULT_MAX_WAITING_WRITES);
    this.guard = new WriteGuard({ source: REJECT_SOURCE, logger: options.logger, rejects: options.rejects });
  }

  async start(): Promise<void> {
    // Concurrent or repeated start() calls share one open; the file must not be opened twice in a process.
    this.starting ??= this.open().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    this.state = await this.starting;
    this.trimCheck ??= setInterval(() => this.trimIfSpellEnded(), TRIM_CHECK_MS).unref();
  }

  private async open(): Promise<OpenState> {
    const { path, logger } = this.options;
    const instance = await openDatabase(path, this.options.memoryLimitMiB);
    try {
      const writer = await instance.connect();
      const applied = await applyMigrations(writer);
      if (applied.length > 0) logger.info({ path, versions: applied }, "DuckDB schema migrated");
      const metricsWriter = new MetricsWriter(writer);
      const entityWriter = new EntityWriter(writer);
      await metricsWriter.prepare();
      const spanWriter = new SpanWriter(writer);
      await entityWriter.prepare();
      await spanWriter.prepare();
      const probeWriter = new ProbeResultWriter(writer);
      await probeWriter.prepare();
      logger.info({ path }, "DuckDB storage started");
      return { instance, writer, metricsWriter, entityWriter, spanWriter, probeWriter };
    } catch (cause) {
      instance.closeSync();
      if (cause instanceof StorageUnavailableError) throw cause;
      throw new StorageUnavailableError(`cannot prepare DuckDB database ${path}: ${errorMessage(cause)}`, { cause });
    }
  }

  async ping(): Promise<boolean> {
    try {
      const connection = await this.connect();
      try {
        await connection.run("SELECT 1");
        return true;
      } finally {
        connection.closeSync();
      }
    } catch {
      return false;
    }
  }

  writeMetrics(rows: readonly MinuteMetrics[], writeId?: number): Promise<void> {
    return this.guard.write("metric", rows, validated(invalidMetricReason), (valid) => this.write(valid.length, (state) => state.metricsWriter.write(valid, writeId, Date.now())));
  }

  /** The id is committed with its rows, so whatever the write left behind, this answers for the whole write. */
  isMetricWriteStored(writeId: number): Promise<boolean> {
    return this.trackRead(() =>
      this.withReadConnection(async (connection) => {
        const reader = await connection.runAndReadAll("SELECT count(*) FROM metric_writes WHERE write_id = $1", [BigInt(writeId)]);
        return toNumber(reader.getColumnsJS()[0]?.[0]) > 0;
      }),
    );
  }

  writeEntities(rows: readonly EntityRecord[]): Promise<void> {
    return this.guard.write("entity", rows, validated(invalidEntityReason), (valid) => this.write(valid.length, (state) => state.entityWriter.write(valid)));
  }

  writeSamples(rows: readonly SampledRecord[]): Promise<void> {
    return this.guard.write("sample", rows, validated(invalidSampleReason), (valid) => this.write(valid.length, (state) => appendSamples(state.writer, valid)));
  }

  writeSpans(spans: readonly Span[]): Promise<void> {
    return this.guard.write("span", spans, validated(invalidSpanReason), (valid) => this.write(valid.length, (state) => state.spanWriter.write(valid)));
  }

  writeProbeResults(rows: readonly ProbeResult[]): Promise<void> {
    return this.guard.write("probe_result", rows, validated(invalidProbeResultReason), (valid) => this.write(valid.length, (state) => state.probeWriter.write(valid)));
  }

  /** One batch of `rows` in its own transaction, after the writes before it; a failure says whether retrying can help. */
  private async write(rows: number, work: (state: OpenState) => Promise<void>): Promise<void> {
    try {
      await this.writes.run(async () => {
        const state = this.requireOpen();
        await inTransaction(state.writer, () => work(state));
      });
    } catch (error) {
      throw classifyDuckDbWriteError(error);
    }
    this.spells.noteWritten(rows);
  }

  /**
   * Gives back the memory DuckDB keeps after a spell of heavy writing (memory-trim.ts), between writes and
   * with no read running: reads that arrive meanwhile wait. Runs on its own once a spell ends.
   */
  async trimMemory(): Promise<void> {
    await this.writes.run(async () => {
      const { writer } = this.requireOpen();
      const readsBefore = [...this.readsInFlight];
      const trimmed = (async () => {
        await Promise.allSettled(readsBefore);
        const rssBefore = process.memoryUsage.rss();
        await trimMemory(writer, { evictBufferPool: this.options.path !== IN_MEMORY, memoryLimit: await memoryLimitSetting(writer, this.options.memoryLimitMiB) });
        this.options.logger.info({ rssBeforeMiB: mebibytes(rssBefore), rssAfterMiB: mebibytes(process.memoryUsage.rss()) }, "DuckDB memory trimmed");
      })();
      // Waiting reads run whether or not the trim worked; its failure goes to the caller.
      this.trimming = trimmed.catch(() => undefined);
      try {
        await trimmed;
      } finally {
        this.trimming = undefined;
      }
    });
  }

  private trimIfSpellEnded(): void {
    // A batch that takes longer than a check (a flood's flush on a slow disk) is not the spell's end.
    if (!this.spells.spellEnded(this.writes.isIdle)) return;
    this.trimMemory().catch((error: unknown) => this.options.logger.warn({ err: error }, "DuckDB memory trim failed"));
  }

  queryMetrics(query: MetricsQuery): Promise<MetricAggregate[]> {
    return this.trackRead(() => this.metricsReader.queryMetrics(query));
  }

  busiestSeries(query: BusiestSeriesQuery): Promise<BusiestSeries> {
    return this.trackRead(() => this.metricsReader.busiestSeries(query));
  }

  topN(query: TopNQuery): Promise<MetricAggregate[]> {
    return this.trackRead(() => this.metricsReader.topN(query));
  }

  listEntities(query: EntityQuery): Promise<EntityRecord[]> {
    return this.trackRead(() => this.withReadConnection((connection) => listEntities(connection, query)));
  }

  querySamples(query: SampleQuery): Promise<SampledRecord[]> {
    return this.trackRead(() => this.withReadConnection((connection) => querySamples(connection, query)));
  }

  getTrace(traceId: string): Promise<Span[]> {
    return this.trackRead(() => this.withReadConnection((connection) => getTrace(connection, traceId)));
  }

  searchTraces(query: TraceQuery): Promise<TraceSummary[]> {
    return this.trackRead(() => this.withReadConnection((connection) => searchTraces(connection, query)));
  }

  listSpanServices(fromMs: number, toMs: number): Promise<string[]> {
    return this.trackRead(() => this.withReadConnection((connection) => listSpanServices(connection, fromMs, toMs)));
  }

  listSpanNames(service: string, fromMs: number, toMs: number): Promise<string[]> {
    return this.trackRead(() => this.withReadConnection((connection) => listSpanNames(connection, service, fromMs, toMs)));
  }

  queryProbeResults(query: ProbeResultQuery): Promise<ProbeResult[]> {
    return this.trackRead(() => this.withReadConnection((connection) => queryProbeResults(connection, query)));
  }

  probeSeries(query: ProbeSeriesQuery): Promise<ProbeSeriesPoint[]> {
    return this.trackRead(() => this.withReadConnection((connection) => probeSeries(connection, query)));
  }

  async enforceRetention(nowMs: number): Promise<void> {
    if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs must be a finite number, got ${nowMs}`);
    const { minuteDays, hourDays, dayDays, samplesDays, spansDays, probeResultsDays } = this.options.retention;
    const cutoffMs = (days: number): bigint => BigInt(Math.floor(nowMs - days * DAY_MS));
    // Table, time column and cutoff in that column's unit (spans keep nanoseconds).
    const cutoffs: [string, string, bigint][] = [
      [METRICS_TABLE.minute, "time_ms", cutoffMs(minuteDays)],
      [METRICS_TABLE.hour, "time_ms", cutoffMs(hourDays)],
      [METRICS_TABLE.day, "time_ms", cutoffMs(dayDays)],
      ["samples", "time_ms", cutoffMs(samplesDays)],
      ["spans", "start_time_ns", cutoffMs(spansDays) * 1_000_000n],
      ["probe_results", "started_ms", cutoffMs(probeResultsDays)],
      ["metric_writes", "written_ms", cutoffMs(minuteDays)],
    ];
    await this.writes.run(async () => {
      const { writer } = this.requireOpen();
      await inTransaction(writer, async () => {
        for (const [table, column, cutoff] of cutoffs) {
          await writer.run(`DELETE FROM ${table} WHERE ${column} < $1`, [cutoff]);
        }
      });
    });
  }

  async close(): Promise<void> {
    const state = this.state;
    if (!state) return;
    clearInterval(this.trimCheck);
    this.trimCheck = undefined;
    // Let accepted writes finish: close() is part of a graceful stop, which flushes.
    await this.writes.drain();
    await Promise.allSettled([...this.readsInFlight]);
    this.state = undefined;
    this.starting = undefined;
    state.writer.closeSync();
    state.instance.closeSync();
    this.options.logger.info({ path: this.options.path }, "DuckDB storage closed");
  }

  private requireOpen(): OpenState {
    if (!this.state) throw new StorageUnavailableError(`DuckDB storage ${this.options.path} is not started (call start() first) or was closed`);
    return this.state;
  }

  private async connect(): Promise<DuckDBConnection> {
    return this.requireOpen().instance.connect();
  }

  private trackRead<T>(start: () => Promise<T>): Promise<T> {
    const read = this.trimming === undefined ? start() : this.trimming.then(start);
    this.readsInFlight.add(read);
    // The caller handles the read's failure; this chain only forgets the read once it settles.
    read.then(
      () => this.readsInFlight.delete(read),
      () => this.readsInFlight.delete(read),
    );
    return read;
  }

  private async withReadConnection<T>(read: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.connect();
    try {
      return await read(connection);
    } finally {
      connection.closeSync();
    }
  }
}

function mebibytes(bytes: number): number {
  return Math.round(bytes / 1_048_576);
}

/** The guard's `prepare` for rows the DuckDB writers take as they are: a row with a problem is refused, not the batch. */
function validated<Row>(invalidReason: (row: Row) => string | undefined): (row: Row) => Row {
  return (row) => {
    const problem = invalidReason(row);
    if (problem !== undefined) throw new TypeError(problem);
    return row;
  };
}
