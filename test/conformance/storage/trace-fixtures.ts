/**
 * Spans and probe results for the conformance suite, with reference answers computed in plain
 * TypeScript from what was written (see fixtures.ts for the metrics equivalent).
 */
import { RESOLUTION_MS, type Resolution } from "../../../core/model/metrics.ts";
import type { ProbeResult } from "../../../core/model/probe.ts";
import type { Span } from "../../../core/model/span.ts";
import type { ProbeSeriesPoint, ProbeSeriesQuery, TraceQuery, TraceSummary } from "../../../core/storage/port.ts";
import { BASE_MS } from "./fixtures.ts";

const NS_PER_MS = 1_000_000n;

/** Nanoseconds since BASE_MS; the odd +7 ns makes every start lose precision as a JS number. */
export function nsAt(offsetMs: number, extraNs = 7n): bigint {
  return BigInt(BASE_MS + offsetMs) * NS_PER_MS + extraNs;
}

export function span(overrides: Partial<Span> & Pick<Span, "traceId" | "spanId">): Span {
  return {
    parentSpanId: "",
    name: "GET /reviews",
    kind: "server",
    startTimeUnixNano: nsAt(0),
    durationNs: 5_000_000,
    service: "reviews.default",
    instance: "reviews-v1-abc.default",
    endpoint: "GET:/reviews/{id}",
    peerService: "",
    isError: false,
    statusMessage: "",
    attributes: { "http.method": "GET" },
    resourceAttributes: { "service.name": "reviews" },
    ...overrides,
  };
}

export function probeResult(overrides: Partial<ProbeResult> & Pick<ProbeResult, "startedMs">): ProbeResult {
  return {
    runId: `run-${overrides.startedMs}`,
    probe: "reviews-http",
    kind: "http",
    target: "http://reviews.default:9080/health",
    service: "reviews.default",
    status: "success",
    durationMs: 12.5,
    phases: { dns: 0.5, connect: 1.25, total: 12.5 },
    message: "",
    attempt: 1,
    labels: { team: "books" },
    ...overrides,
  };
}

function startMs(span: Span): bigint {
  return span.startTimeUnixNano / NS_PER_MS;
}

function spanMatches(span: Span, query: TraceQuery): boolean {
  const ms = startMs(span);
  if (ms < BigInt(query.fromMs) || ms >= BigInt(query.toMs)) return false;
  if (query.service !== undefined && span.service !== query.service) return false;
  if (query.name !== undefined && span.name !== query.name && span.endpoint !== query.name) return false;
  if (query.minDurationMs !== undefined && span.durationNs < query.minDurationMs * 1e6) return false;
  if (query.maxDurationMs !== undefined && span.durationNs > query.maxDurationMs * 1e6) return false;
  if (query.onlyErrors === true && !span.isError) return false;
  return Object.entries(query.attributes ?? {}).every(([key, value]) => span.attributes[key] === value);
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Spans of one trace each once, in the order getTrace must return them. */
export function expectedTrace(written: readonly Span[], traceId: string): Span[] {
  const unique = new Map<string, Span>();
  for (const span of written) if (span.traceId === traceId && !unique.has(span.spanId)) unique.set(span.spanId, span);
  return [...unique.values()].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : compareText(a.spanId, b.spanId)));
}

export function summarize(spans: readonly Span[]): TraceSummary {
  const [first] = spans;
  if (!first) throw new Error("a trace has at least one span");
  const rootCandidates = spans.filter((span) => span.parentSpanId === "");
  const root = (rootCandidates.length > 0 ? rootCandidates : spans)[0] ?? first;
  const start = spans.reduce((min, span) => (span.startTimeUnixNano < min ? span.startTimeUnixNano : min), first.startTimeUnixNano);
  const end = spans.reduce((max, span) => {
    const spanEnd = span.startTimeUnixNano + BigInt(span.durationNs);
    return spanEnd > max ? spanEnd : max;
  }, 0n);
  return {
    traceId: first.traceId,
    rootService: root.service,
    rootName: root.name,
    startTimeMs: Number(start / NS_PER_MS),
    durationMs: Number(end - start) / 1e6,
    spanCount: spans.length,
    errorCount: spans.filter((span) => span.isError).length,
    services: [...new Set(spans.map((span) => span.service))].sort(compareText),
  };
}

/** What searchTraces must return for `written` spans. */
export function expectedSearch(written: readonly Span[], query: TraceQuery): TraceSummary[] {
  const traceIds = [...new Set(written.filter((span) => spanMatches(span, query)).map((span) => span.traceId))];
  return traceIds
    .map((traceId) => summarize(expectedTrace(written, traceId)))
    .sort((a, b) => b.startTimeMs - a.startTimeMs || compareText(a.traceId, b.traceId))
    .slice(0, query.limit);
}

/** What probeSeries must return for `written` results. */
export function expectedSeries(written: readonly ProbeResult[], query: ProbeSeriesQuery): ProbeSeriesPoint[] {
  const width = RESOLUTION_MS[query.resolution satisfies Resolution];
  const points = new Map<string, ProbeSeriesPoint>();
  for (const row of written) {
    if (row.startedMs < query.fromMs || row.startedMs >= query.toMs) continue;
    if (query.probe !== undefined && row.probe !== query.probe) continue;
    if (query.target !== undefined && row.target !== query.target) continue;
    if (query.service !== undefined && row.service !== query.service) continue;
    const timeMs = Math.floor(row.startedMs / width) * width;
    const key = JSON.stringify([timeMs, row.probe, row.target]);
    const point = points.get(key) ?? { probe: row.probe, target: row.target, timeMs, runs: 0, failures: 0, durationSumMs: 0, maxDurationMs: 0 };
    point.runs++;
    if (row.status !== "success") point.failures++;
    point.durationSumMs += row.durationMs;
    point.maxDurationMs = Math.max(point.maxDurationMs, row.durationMs);
    points.set(key, point);
  }
  return [...points.values()].sort((a, b) => a.timeMs - b.timeMs || compareText(a.probe, b.probe) || compareText(a.target, b.target));
}
