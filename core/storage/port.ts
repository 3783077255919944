import type { EntityKind, EntityRecord } from "../model/dimensions.ts";
import type { MetricAggregate, MetricScope, MinuteMetrics, Resolution } from "../model/metrics.ts";
import type { SampledRecord } from "../model/sample.ts";

/**
 * The storage port. Writers and readers are separate interfaces (a collector only writes, the API only
 * reads); each adapter under core/storage/<name>/ implements both and passes test/conformance/storage.
 * Time ranges are half-open: [fromMs, toMs).
 */

export interface StorageWriter {
  /** Adds minute rows; rows with the same key and minute merge by summing (also across writers). */
  writeMetrics(rows: readonly MinuteMetrics[]): Promise<void>;
  /** Upserts entities; the row with the latest lastSeenMs wins. */
  writeEntities(rows: readonly EntityRecord[]): Promise<void>;
  writeSamples(rows: readonly SampledRecord[]): Promise<void>;
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

export interface StorageReader {
  queryMetrics(query: MetricsQuery): Promise<MetricAggregate[]>;
  /** Entities ordered by `orderBy` descending, ties by service then name. */
  topN(query: TopNQuery): Promise<MetricAggregate[]>;
  listEntities(query: EntityQuery): Promise<EntityRecord[]>;
  querySamples(query: SampleQuery): Promise<SampledRecord[]>;
}

/** How long each kind of data is kept, in days. */
export interface RetentionPolicy {
  minuteDays: number;
  hourDays: number;
  dayDays: number;
  samplesDays: number;
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

/** Raised when the backing server cannot be reached: retrying later can help. */
export class StorageUnavailableError extends Error {
  override readonly name = "StorageUnavailableError";
}
