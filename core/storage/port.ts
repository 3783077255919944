import type { EntityKind, EntityRecord } from "../model/dimensions.ts";
import type { MetricAggregate, MetricScope, MinuteMetrics, Resolution } from "../model/metrics.ts";
import type { ProbeResult, ProbeStatus } from "../model/probe.ts";
import type { SampledRecord } from "../model/sample.ts";
import type { Span } from "../model/span.ts";

/**
 * The storage port. Writers and readers are separate interfaces (a collector only writes, the API only
 * reads); each adapter under core/storage/<name>/ implements both and passes test/conformance/storage.
 * Time ranges are half-open: [fromMs, toMs).
 */

export interface StorageWriter {
  /**
   * Adds minute rows; rows with the same key and minute merge by summing (also across writers). With a
   * `writeId` (a caller-chosen integer unique among writes, whose rows lie in one UTC day), storage keeps
   * the id with the rows, atomically with them (in the same transaction or part), so that
   * isMetricWriteStored can tell afterwards whether the write happened: what makes a write retried across a
   * crash happen exactly once (docs/deploy.md, "Crash recovery").
   */
  writeMetrics(rows: readonly MinuteMetrics[], writeId?: number): Promise<void>;
  /**
   * Whether a writeMetrics call with `writeId` was stored; `day` is a time in the UTC day its rows lie in.
   * Throws a StorageUnavailableError while that write may still be under way on the server.
   */
  isMetricWriteStored(writeId: number, day: number): Promise<boolean>;
  /** Upserts entities; the row with the latest lastSeenMs wins. */
  writeEntities(rows: readonly EntityRecord[]): Promise<void>;
  writeSamples(rows: readonly SampledRecord[]): Promise<void>;
  /** Appends spans; a span written twice (same trace id and span id) is kept once. */
  writeSpans(spans: readonly Span[]): Promise<void>;
  writeProbeResults(rows: readonly ProbeResult[]): Promise<void>;
}

export interface MetricsQuery {
  scope: MetricScope;
  fromMs: number;
  toMs: number;
  /** Which table to read; hour and day read the rollups. */
  resolution: Resolution;
  /** Exact-match filters; omitted means any. */
  service?: string;
  name?: string;
  detectPoint?: "client" | "server";
  /** true: one aggregate per entity and time bucket of `resolution` (a series); false: one per entity. */
  groupByTime: boolean;
}

/**
 * The series of the busiest entities of a range: what one analysis round reads, bounded in storage rather
 * than after every row came into Node.
 */
export interface BusiestSeriesQuery {
  scope: MetricScope;
  fromMs: number;
  toMs: number;
  resolution: Resolution;
  /** How many entities (service, name) to keep. */
  limit: number;
  /** true: one aggregate per entity and time bucket (a series); false: one per entity over the range. */
  groupByTime: boolean;
  /**
   * The range whose calls rank the entities, when it is not the range read: an analysis round reads the
   * baselines (the hour before its window) of the entities it keeps in the window.
   */
  rankedBy?: { fromMs: number; toMs: number };
}

export interface BusiestSeries {
  /** One aggregate per entity, detect point, component (and time bucket), as queryMetrics reads them. */
  rows: MetricAggregate[];
  /** Entities with rows in the ranking range, kept or not: the limit left out entityCount minus those kept. */
  entityCount: number;
}

export type TopNOrder = "calls" | "errors" | "latency_avg";

export interface TopNQuery {
  scope: MetricScope;
  fromMs: number;
  toMs: number;
  resolution: Resolution;
  service?: string;
  orderBy: TopNOrder;
  limit: number;
}

export interface EntityQuery {
  kind: EntityKind;
  service?: string;
  /** Entities last seen at or after this time. */
  seenSinceMs: number;
  limit: number;
}

export interface SampleQuery {
  fromMs: number;
  toMs: number;
  service?: string;
  endpoint?: string;
  onlyErrors?: boolean;
  traceId?: string;
  /** Newest first, at most this many. */
  limit: number;
}

export interface TraceQuery {
  fromMs: number;
  toMs: number;
  /** A trace matches when any of its spans matches every given filter. */
  service?: string;
  /** Span name or endpoint. */
  name?: string;
  minDurationMs?: number;
  maxDurationMs?: number;
  onlyErrors?: boolean;
  /** Every pair must equal one of the span's attributes. */
  attributes?: Readonly<Record<string, string>>;
  /** Newest first, at most this many traces. */
  limit: number;
}

export interface TraceSummary {
  traceId: string;
  /** The span without a parent (or the earliest span when the root is missing). */
  rootService: string;
  rootName: string;
  startTimeMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
}

export interface ProbeResultQuery {
  fromMs: number;
  toMs: number;
  probe?: string;
  target?: string;
  service?: string;
  status?: ProbeStatus;
  /** Newest first, at most this many. */
  limit: number;
}

export interface ProbeSeriesQuery {
  fromMs: number;
  toMs: number;
  probe?: string;
  target?: string;
  service?: string;
  /** Bucket width of the series. */
  resolution: Resolution;
}

/** Runs of one probe case against one target within one time bucket. */
export interface ProbeSeriesPoint {
  probe: string;
  target: string;
  timeMs: number;
  runs: number;
  failures: number;
  durationSumMs: number;
  maxDurationMs: number;
}

export interface StorageReader {
  queryMetrics(query: MetricsQuery): Promise<MetricAggregate[]>;
  /**
   * The `limit` entities with the most calls in the ranking range (a relation by its client side unless only
   * its server side reported, as the analyzer reads relations), ties by service then name, with their rows
   * in the range read.
   */
  busiestSeries(query: BusiestSeriesQuery): Promise<BusiestSeries>;
  /** Entities ordered by `orderBy` descending, ties by service then name. */
  topN(query: TopNQuery): Promise<MetricAggregate[]>;
  listEntities(query: EntityQuery): Promise<EntityRecord[]>;
  querySamples(query: SampleQuery): Promise<SampledRecord[]>;
  /** Every span of the trace, ordered by start time; [] when unknown. */
  getTrace(traceId: string): Promise<Span[]>;
  searchTraces(query: TraceQuery): Promise<TraceSummary[]>;
  /** Services and span names seen in spans of the range (what Zipkin's query API lists). */
  listSpanServices(fromMs: number, toMs: number): Promise<string[]>;
  listSpanNames(service: string, fromMs: number, toMs: number): Promise<string[]>;
  queryProbeResults(query: ProbeResultQuery): Promise<ProbeResult[]>;
  /** One point per probe, target and time bucket that had runs, ordered by time. */
  probeSeries(query: ProbeSeriesQuery): Promise<ProbeSeriesPoint[]>;
}

/** How long each kind of data is kept, in days. */
export interface RetentionPolicy {
  minuteDays: number;
  hourDays: number;
  dayDays: number;
  samplesDays: number;
  spansDays: number;
  probeResultsDays: number;
}

export interface StorageAdapter extends StorageWriter, StorageReader {
  readonly name: string;
  /** Connects and applies migrations; idempotent. Throws a StorageUnavailableError when unreachable. */
  start(): Promise<void>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<boolean>;
  /** Drops data older than the retention policy (a no-op where the server does it by TTL). */
  enforceRetention(nowMs: number): Promise<void>;
  close(): Promise<void>;
}

/*
 * Write failures say whether retrying can help, as the OpenTelemetry Collector's consumererror does
 * (https://github.com/open-telemetry/opentelemetry-collector/tree/main/consumer/consumererror): a
 * PermanentWriteError never succeeds on retry and its rows are dropped (counted); anything else is
 * retryable. Adapters settle rows the server refuses as malformed themselves (core/storage/write-guard.ts),
 * so a caller only ever retries rows that can still be stored.
 */

/** Raised when the backing server cannot be reached, times out or is overloaded: retrying later can help. */
export class StorageUnavailableError extends Error {
  override readonly name: string = "StorageUnavailableError";
}

/**
 * A retryable failure after part of the batch was stored or refused: retry `unwritten` only (rows of the
 * batch given, in their order, minus those already settled), so nothing is stored or counted twice.
 */
export class PartialWriteError extends StorageUnavailableError {
  override readonly name = "PartialWriteError";
  constructor(
    message: string,
    readonly unwritten: readonly unknown[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Retrying cannot help: the rows (not the server) are the problem. */
export class PermanentWriteError extends Error {
  override readonly name: string = "PermanentWriteError";
}

/** The server refused a batch because of what is in it (a value it cannot parse or convert). */
export class MalformedBatchError extends PermanentWriteError {
  override readonly name = "MalformedBatchError";
}
