/**
 * Data and a reference model for the storage conformance suite. The reference computes, in plain
 * TypeScript, what any adapter must return for the rows written, so cases compare whole answers
 * instead of spot-checking a field or two.
 */
import assert from "node:assert/strict";
import { newDenseHistogram, recordLatency, toSparse, type SparseHistogram } from "../../../core/model/histogram.ts";
import type { EntityRecord } from "../../../core/model/dimensions.ts";
import { RESOLUTION_MS, sumMetricValues, type MetricAggregate, type MetricKey, type MinuteMetrics, type Resolution } from "../../../core/model/metrics.ts";
import type { SampledRecord } from "../../../core/model/sample.ts";
import type { MetricsQuery } from "../../../core/storage/port.ts";

export const MINUTE = RESOLUTION_MS.minute;
export const HOUR = RESOLUTION_MS.hour;
export const DAY = RESOLUTION_MS.day;
/** A fixed UTC midnight, so every case knows exactly which hour and day bucket a minute falls in. */
export const BASE_MS = Date.UTC(2024, 0, 15);

/** Strings that break naive quoting in SQL dialects, URLs, JSON and logs. All NUL-free and valid UTF-16. */
export const HOSTILE_NAMES: readonly string[] = [
  "emoji 🦆🚀👩‍👩‍👧",
  "中文服务.命名空间",
  "it's quoted",
  'say "hello"',
  "back\\slash\\\\double",
  "'; DROP TABLE metrics_minute; --",
  "x'); DROP TABLE entities; --",
  '" OR 1=1 --',
  "\\'; SELECT 1; --",
  "{name:String} $1 ? %s :name",
  "tab\tnew\nline\rcr",
  repeatToLength("long 🦆 '\"\\ 名 ", 10_000),
];

function repeatToLength(unit: string, length: number): string {
  // Whole units only: cutting inside a surrogate pair would make a string no store can keep exactly.
  return unit.repeat(Math.ceil(length / unit.length));
}

export function histogramOf(latenciesMs: readonly number[]): SparseHistogram {
  const dense = newDenseHistogram();
  for (const latency of latenciesMs) recordLatency(dense, latency);
  return toSparse(dense);
}

export function metricRow(overrides: Partial<MinuteMetrics> & Pick<MinuteMetrics, "timeMs">): MinuteMetrics {
  return {
    scope: "service",
    service: "reviews.default",
    name: "",
    detectPoint: "",
    component: "",
    calls: 10,
    errors: 1,
    latencySumMs: 250,
    apdexSatisfied: 8,
    apdexTolerating: 1,
    bytesIn: 1000,
    bytesOut: 2000,
    histogram: { buckets: [80, 90], counts: [6, 4] },
    ...overrides,
  };
}

export function entity(overrides: Partial<EntityRecord> & Pick<EntityRecord, "service" | "lastSeenMs">): EntityRecord {
  return { kind: "service", name: "", layer: "MESH", attributes: {}, ...overrides };
}

export function sample(overrides: Partial<SampledRecord> & Pick<SampledRecord, "timeMs">): SampledRecord {
  return {
    service: "reviews.default",
    instance: "reviews-v1-abc.default",
    endpoint: "GET:/reviews/{id}",
    detectPoint: "server",
    peerService: "productpage.default",
    responseCode: 200,
    responseFlags: "-",
    isError: false,
    latencyMs: 12.5,
    reason: "uniform",
    requestId: `req-${overrides.timeMs}`,
    traceId: `trace-${overrides.timeMs}`,
    raw: '{"path":"/reviews/1"}',
    ...overrides,
  };
}

function keyOf(row: MetricKey): string {
  return JSON.stringify([row.scope, row.service, row.name, row.detectPoint, row.component]);
}

function bucketStart(timeMs: number, resolution: Resolution): number {
  return Math.floor(timeMs / RESOLUTION_MS[resolution]) * RESOLUTION_MS[resolution];
}

/** What queryMetrics must return for `written` rows: the reference every adapter is held to. */
export function expectedMetrics(written: readonly MinuteMetrics[], query: MetricsQuery): MetricAggregate[] {
  const groups = new Map<string, { key: MetricKey; timeMs: number; rows: MinuteMetrics[] }>();
  for (const row of written) {
    const rowBucket = bucketStart(row.timeMs, query.resolution);
    if (row.scope !== query.scope || rowBucket < query.fromMs || rowBucket >= query.toMs) continue;
    if (query.service !== undefined && row.service !== query.service) continue;
    if (query.name !== undefined && row.name !== query.name) continue;
    if (query.detectPoint !== undefined && row.detectPoint !== query.detectPoint) continue;
    const timeMs = query.groupByTime ? rowBucket : query.fromMs;
    const id = `${keyOf(row)}@${timeMs}`;
    const group = groups.get(id) ?? { key: row, timeMs, rows: [] };
    group.rows.push(row);
    groups.set(id, group);
  }
  return sortAggregates(
    [...groups.values()].map(({ key, timeMs, rows }) => ({
      scope: key.scope,
      service: key.service,
      name: key.name,
      detectPoint: key.detectPoint,
      component: key.component,
      timeMs,
      ...sumMetricValues(rows),
    })),
  );
}

/** Orders by entity then time, so answers compare regardless of the order a backend returns them in. */
export function sortAggregates(rows: readonly MetricAggregate[]): MetricAggregate[] {
  const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows].sort((a, b) => compare(keyOf(a), keyOf(b)) || a.timeMs - b.timeMs);
}

/** Compares answers exactly, except float sums which may be added in any order. */
export function assertAggregatesEqual(actual: readonly MetricAggregate[], expected: readonly MetricAggregate[], what: string): void {
  const round = (rows: readonly MetricAggregate[]): MetricAggregate[] =>
    sortAggregates(rows).map((row) => ({ ...row, latencySumMs: Math.round(row.latencySumMs * 1e6) / 1e6, histogram: normalized(row.histogram) }));
  assert.deepEqual(round(actual), round(expected), what);
}

function normalized(histogram: SparseHistogram): SparseHistogram {
  return { buckets: [...histogram.buckets], counts: [...histogram.counts] };
}

/** A deterministic pseudo-random source (LCG), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

