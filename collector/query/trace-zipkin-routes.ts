/**
 * The Zipkin v2 query API (https://zipkin.io/zipkin-api/#/default), the part Grafana's Zipkin data source
 * and Zipkin's UI use: /api/v2/services, /api/v2/spans, /api/v2/remoteServices, /api/v2/traces,
 * /api/v2/trace/{traceId}, /api/v2/dependencies. Errors are plain text with a 400/404, as Zipkin's server
 * answers. Served on the Zipkin port, as a Zipkin server does, and on the HTTP API port (read-api-routes.ts).
 */
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { StorageReader, TraceQuery } from "../../core/storage/port.ts";
import { dependencyLinks } from "./dependency-links.ts";
import { toZipkinSpan } from "./trace-zipkin-format.ts";
import { normalizeTraceIdParam } from "./trace-json.ts";

type QueryString = Record<string, string | undefined>;

/** Zipkin's default lookback is one day (QueryRequest.lookback). */
const DEFAULT_LOOKBACK_MS = 86_400_000;
const MAX_LOOKBACK_MS = 400 * 86_400_000;
const DEFAULT_TRACE_LIMIT = 10;
const MAX_TRACE_LIMIT = 1000;

class ZipkinQueryError extends Error {}

export function zipkinQueryRoutes(reader: StorageReader, now: () => number = Date.now): FastifyPluginAsync {
  return async (app) => {
    app.setErrorHandler(async (error, _request, reply: FastifyReply) => {
      if (error instanceof ZipkinQueryError) return reply.code(400).type("text/plain").send(error.message);
      throw error;
    });

    app.get<{ Querystring: QueryString }>("/api/v2/services", { config: { scope: "read" } }, async (request) => {
      const { fromMs, toMs } = window(request.query, now());
      return reader.listSpanServices(fromMs, toMs);
    });

    app.get<{ Querystring: QueryString }>("/api/v2/spans", { config: { scope: "read" } }, async (request) => {
      const service = request.query.serviceName;
      if (!service) throw new ZipkinQueryError("serviceName is required");
      const { fromMs, toMs } = window(request.query, now());
      return reader.listSpanNames(service, fromMs, toMs);
    });

    app.get<{ Querystring: QueryString }>("/api/v2/remoteServices", { config: { scope: "read" } }, async (request) => {
      const service = request.query.serviceName;
      if (!service) throw new ZipkinQueryError("serviceName is required");
      const { fromMs, toMs } = window(request.query, now());
      const peers = new Set<string>();
      for (const summary of await reader.searchTraces({ fromMs, toMs, service, limit: 100 })) {
        for (const span of await reader.getTrace(summary.traceId)) if (span.service === service && span.peerService !== "") peers.add(span.peerService);
      }
      return [...peers].sort();
    });

    app.get<{ Querystring: QueryString }>("/api/v2/traces", { config: { scope: "read" } }, async (request) => {
      const query = zipkinTraceQuery(request.query, now());
      const summaries = await reader.searchTraces(query);
      const traces = [];
      for (const summary of summaries) traces.push((await reader.getTrace(summary.traceId)).map(toZipkinSpan));
      return traces;
    });

    app.get<{ Params: { traceId: string } }>("/api/v2/trace/:traceId", { config: { scope: "read" } }, async (request, reply) => {
      const traceId = normalizeTraceIdParam(request.params.traceId);
      if (traceId === null) throw new ZipkinQueryError("traceId must be 16 or 32 hex digits");
      const spans = await reader.getTrace(traceId);
      if (spans.length === 0) return reply.code(404).type("text/plain").send(`trace ${request.params.traceId} not found`);
      return spans.map(toZipkinSpan);
    });

    // endTs is required here (zipkin2-api.yaml); Zipkin writes errorCount only when it is not 0.
    app.get<{ Querystring: QueryString }>("/api/v2/dependencies", { config: { scope: "read" } }, async (request) => {
      if (request.query.endTs === undefined || request.query.endTs === "") throw new ZipkinQueryError("endTs is required");
      const { fromMs, toMs } = window(request.query, now());
      const links = await dependencyLinks(reader, fromMs, toMs);
      return links.map(({ errorCount, ...link }) => (errorCount > 0 ? { ...link, errorCount } : link));
    });
  };
}

/** Zipkin's time window: endTs (epoch ms, default now) and lookback (ms, default one day). */
function window(query: QueryString, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = query.endTs === undefined ? nowMs : Number(query.endTs);
  const lookback = query.lookback === undefined ? DEFAULT_LOOKBACK_MS : Number(query.lookback);
  if (!(Number.isSafeInteger(toMs) && toMs > 0)) throw new ZipkinQueryError("endTs must be epoch milliseconds");
  if (!(Number.isSafeInteger(lookback) && lookback > 0 && lookback <= MAX_LOOKBACK_MS)) throw new ZipkinQueryError("lookback must be a positive number of milliseconds, at most 400 days");
  // endTs is inclusive in Zipkin; the port's ranges are half-open.
  return { fromMs: toMs - lookback, toMs: toMs + 1 };
}

export function zipkinTraceQuery(query: QueryString, nowMs: number): TraceQuery {
  const { fromMs, toMs } = window(query, nowMs);
  const limit = query.limit === undefined ? DEFAULT_TRACE_LIMIT : Number(query.limit);
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_TRACE_LIMIT)) throw new ZipkinQueryError(`limit must be an integer 1..${MAX_TRACE_LIMIT}`);
  const result: TraceQuery = { fromMs, toMs, limit };
  if (query.serviceName) result.service = query.serviceName;
  // Zipkin's UI sends spanName=all for "any span name".
  if (query.spanName && query.spanName !== "all") result.name = query.spanName;
  // Durations are microseconds in Zipkin's API.
  if (query.minDuration !== undefined) result.minDurationMs = microsToMs(query.minDuration, "minDuration");
  if (query.maxDuration !== undefined) result.maxDurationMs = microsToMs(query.maxDuration, "maxDuration");
  if (query.annotationQuery) applyAnnotationQuery(query.annotationQuery, result);
  return result;
}

function microsToMs(value: string, name: string): number {
  const micros = Number(value);
  if (!(Number.isFinite(micros) && micros >= 0)) throw new ZipkinQueryError(`${name} must be a non-negative number of microseconds`);
  return micros / 1000;
}

/**
 * `error and http.method=GET`: terms joined by "and"; `key=value` must equal a tag, `error` selects failed
 * traces. Other bare terms (annotation values) are not indexed here and are refused rather than ignored.
 */
function applyAnnotationQuery(text: string, into: TraceQuery): void {
  const attributes: Record<string, string> = {};
  for (const rawTerm of text.split(/\s+and\s+/i)) {
    const term = rawTerm.trim();
    if (term === "") continue;
    const equals = term.indexOf("=");
    if (equals > 0) attributes[term.slice(0, equals)] = term.slice(equals + 1);
    else if (term === "error") into.onlyErrors = true;
    else throw new ZipkinQueryError(`annotationQuery term "${term}" is not supported; use key=value or error`);
  }
  if (Object.keys(attributes).length > 0) into.attributes = attributes;
}
