import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { SampledRecord } from "../../core/model/sample.ts";
import type { StorageReader, TraceQuery, TraceSummary } from "../../core/storage/port.ts";
import { invalid, limit, optional, timeRange, type QueryString } from "./query-params.ts";
import { normalizeTraceIdParam, toSpanJson, type SpanJson } from "./trace-json.ts";

const MAX_TRACES = 1000;
/** Access-log samples of a trace are looked up around it: calls may be logged a little before or after. */
const LOG_LINK_MARGIN_MS = 5 * 60_000;
const MAX_LINKED_LOGS = 100;

export interface TraceResponse {
  traceId: string;
  spans: SpanJson[];
  /** Sampled access-log records of the same trace (linked by trace id): what the mesh saw of it. */
  accessLogs: SampledRecord[];
}

/**
 * The v1 trace API (docs/architecture.md "API contract"): GET /api/v1/traces/:traceId and a search,
 * GET /api/v1/traces?service=&endpoint=&minDurationMs=&maxDurationMs=&errors=true&attr.<key>=<value>&from=&to=&limit=.
 */
export function traceRoutes(reader: Pick<StorageReader, "getTrace" | "searchTraces" | "querySamples">, now: () => number = Date.now): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { traceId: string } }>("/api/v1/traces/:traceId", { config: { scope: "read" } }, async (request): Promise<TraceResponse> => {
      const traceId = normalizeTraceIdParam(request.params.traceId);
      if (traceId === null) throw invalid("traceId", "expected 16 or 32 hex digits");
      const spans = await reader.getTrace(traceId);
      if (spans.length === 0) throw createError("MS_NOT_FOUND", { kind: "trace", name: traceId });
      const startsMs = spans.map((span) => Number(span.startTimeUnixNano / 1_000_000n));
      const accessLogs = await reader.querySamples({
        traceId,
        fromMs: Math.min(...startsMs) - LOG_LINK_MARGIN_MS,
        toMs: Math.max(...startsMs) + LOG_LINK_MARGIN_MS,
        limit: MAX_LINKED_LOGS,
      });
      return { traceId, spans: spans.map(toSpanJson), accessLogs };
    });

    app.get<{ Querystring: QueryString }>("/api/v1/traces", { config: { scope: "read" } }, async (request): Promise<TraceSummary[]> => reader.searchTraces(traceQuery(request.query, now())));
  };
}

export function traceQuery(query: QueryString, nowMs: number): TraceQuery {
  const range = timeRange(query, nowMs);
  const service = optional(query, "service");
  const name = optional(query, "endpoint") ?? optional(query, "name");
  const minDurationMs = durationParam(query, "minDurationMs");
  const maxDurationMs = durationParam(query, "maxDurationMs");
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith("attr.") && key.length > "attr.".length && value !== undefined) attributes[key.slice("attr.".length)] = value;
  }
  return {
    fromMs: range.fromMs,
    toMs: range.toMs,
    limit: limit(query, 20, MAX_TRACES),
    ...(service === undefined ? {} : { service }),
    ...(name === undefined ? {} : { name }),
    ...(minDurationMs === undefined ? {} : { minDurationMs }),
    ...(maxDurationMs === undefined ? {} : { maxDurationMs }),
    ...(query.errors === "true" ? { onlyErrors: true } : {}),
    ...(Object.keys(attributes).length === 0 ? {} : { attributes }),
  };
}

function durationParam(query: QueryString, name: string): number | undefined {
  const value = optional(query, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(Number.isFinite(parsed) && parsed >= 0)) throw invalid(name, "expected a non-negative number of milliseconds");
  return parsed;
}
