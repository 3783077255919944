import { RESOLUTION_MS } from "../../core/model/metrics.ts";
import { createError } from "../../core/http/errors.ts";
import type { DetectPoint } from "../../core/model/dimensions.ts";
import { PERCENTILE_METRICS, type DerivedMetric, type MetricScope, type Resolution } from "../../core/model/metrics.ts";
import { alignToMinutes, DEFAULT_WINDOW_MS, parseTimeValue, type TimeRange } from "./time-range.ts";

/** Query-string parsing for the read API: every bad value is an MS_INVALID_PARAMETER naming the parameter. */

export type QueryString = Record<string, string | undefined>;

const SCOPES: readonly MetricScope[] = ["service", "instance", "endpoint", "relation"];
const STEPS: readonly Resolution[] = ["minute", "hour", "day"];
const METRICS: readonly DerivedMetric[] = ["cpm", "sla", "apdex", "errors", "calls", "latency_avg", ...(Object.keys(PERCENTILE_METRICS) as DerivedMetric[])];
const DETECT_POINTS: readonly DetectPoint[] = ["client", "server"];
/** Longest range one request may read: bounds the work a single call can ask of storage. */
const MAX_RANGE_MS = 400 * 86_400_000;

export function invalid(name: string, detail: string): Error {
  return createError("MS_INVALID_PARAMETER", { name, detail });
}

export function timeRange(query: QueryString, nowMs: number): TimeRange {
  const to = query.to === undefined ? nowMs : parseTimeValue(query.to);
  if (to === null) throw invalid("to", "expected epoch milliseconds or an RFC 3339 time");
  const from = query.from === undefined ? to - DEFAULT_WINDOW_MS : parseTimeValue(query.from);
  if (from === null) throw invalid("from", "expected epoch milliseconds or an RFC 3339 time");
  if (from >= to) throw invalid("from", "must be before to");
  if (to - from > MAX_RANGE_MS) throw invalid("from", "range is longer than 400 days");
  return { ...alignToMinutes(from, to), currentMinuteMs: Math.floor(to / RESOLUTION_MS.minute) * RESOLUTION_MS.minute - RESOLUTION_MS.minute };
}

export function oneOf<T extends string>(query: QueryString, name: string, allowed: readonly T[]): T | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw invalid(name, `expected one of ${allowed.join(", ")}`);
  return value as T;
}

export function required(query: QueryString, name: string): string {
  const value = query[name];
  if (value === undefined || value === "") throw invalid(name, "is required");
  return value;
}

export function optional(query: QueryString, name: string): string | undefined {
  const value = query[name];
  return value === undefined || value === "" ? undefined : value;
}

export function limit(query: QueryString, fallback: number, max: number): number {
  const value = query.limit;
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw invalid("limit", `expected an integer 1..${max}`);
  return parsed;
}

export const scopeParam = (query: QueryString): MetricScope => oneOf(query, "scope", SCOPES) ?? "service";
export const stepParam = (query: QueryString): Resolution | undefined => oneOf(query, "step", STEPS);
export const metricParam = (query: QueryString): DerivedMetric => {
  const metric = oneOf(query, "metric", METRICS);
  if (metric === undefined) throw invalid("metric", `is required: one of ${METRICS.join(", ")}`);
  return metric;
};
export const detectPointParam = (query: QueryString): DetectPoint | undefined => oneOf(query, "detectPoint", DETECT_POINTS);
