/**
 * The Jaeger query service's HTTP JSON API, the part Grafana's Jaeger data source and Jaeger's own UI call
 * (https://github.com/jaegertracing/jaeger/blob/v2.20.0/cmd/jaeger/internal/extension/jaegerquery/internal/http_handler.go):
 * GET /api/services, /api/services/{service}/operations, /api/traces (search), /api/traces/{traceID}
 * and /api/dependencies. Every answer is Jaeger's envelope `{data, total, limit, offset, errors}`.
 * Served on the HTTP API port by every process with the read API (read-api-routes.ts).
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply } from "fastify";
import { toMeshsightError } from "../../core/http/error-handler.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import { dependencyLinks } from "./dependency-links.ts";
import { toJaegerTrace, jaegerTraceId } from "./trace-jaeger-format.ts";
import {
  checkTraceTimeParams,
  DEFAULT_SEARCH_LOOKBACK_MS,
  dependencyWindow,
  JaegerParameterError,
  jaegerTraceQuery,
  storedTraceId,
  type QueryString,
} from "./trace-jaeger-params.ts";

interface JaegerError {
  code?: number;
  msg: string;
  traceID?: string;
}

interface Envelope {
  data: unknown;
  total: number;
  limit: number;
  offset: number;
  errors: JaegerError[] | null;
}

const envelope = (data: unknown, total = 0, errors: JaegerError[] | null = null): Envelope => ({ data, total, limit: 0, offset: 0, errors });

class JaegerNotFoundError extends Error {}

/**
 * Jaeger answers errors through Go's http.Error: the JSON envelope as text/plain with a trailing newline,
 * `errors[0].code` repeating the status, which Grafana shows to the user.
 */
function sendError(reply: FastifyReply, status: number, msg: string): FastifyReply {
  return reply
    .code(status)
    .header("content-type", "text/plain; charset=utf-8")
    .header("x-content-type-options", "nosniff")
    .send(`${JSON.stringify(envelope(null, 0, [{ code: status, msg }]))}\n`);
}

export function jaegerQueryRoutes(reader: StorageReader, now: () => number = Date.now): FastifyPluginAsync {
  return async (app) => {
    app.setErrorHandler(async (error: FastifyError, request, reply) => {
      if (error instanceof JaegerParameterError) return sendError(reply, 400, error.message);
      if (error instanceof JaegerNotFoundError) return sendError(reply, 404, "trace not found");
      // Everything else keeps the status the rest of the API gives it (a repeated parameter 400, storage down 503).
      const mapped = toMeshsightError(error, request, 0);
      if (mapped.statusCode >= 500) request.log.error({ err: error, code: mapped.code }, "request failed");
      if (mapped.statusCode === 503) void reply.header("retry-after", "1");
      return sendError(reply, mapped.statusCode, mapped.message);
    });

    const recentWindow = (): [number, number] => [now() - DEFAULT_SEARCH_LOOKBACK_MS, now() + 1];

    app.get("/api/services", { config: { scope: "read" } }, async () => {
      const services = await reader.listSpanServices(...recentWindow());
      return envelope(services, services.length);
    });

    app.get<{ Params: { service: string } }>("/api/services/:service/operations", { config: { scope: "read" } }, async (request) => {
      const names = await reader.listSpanNames(request.params.service, ...recentWindow());
      return envelope(names, names.length);
    });

    app.get<{ Querystring: QueryString }>("/api/traces", { config: { scope: "read" } }, async (request) => {
      const traceIdParam = request.query.traceID;
      if (traceIdParam !== undefined && traceIdParam !== "") {
        const traceId = storedTraceId(traceIdParam);
        if (traceId === null) throw new JaegerParameterError(`cannot parse traceID param: ${JSON.stringify(traceIdParam)} is not up to 32 hex digits`);
        const spans = await reader.getTrace(traceId);
        return spans.length === 0 ? envelope([], 0, [{ msg: "trace not found", traceID: jaegerTraceId(traceId) }]) : envelope([toJaegerTrace(spans)]);
      }
      const query = jaegerTraceQuery(request.query, now());
      if (query.fromMs >= query.toMs) return envelope([]);
      const traces = [];
      for (const summary of await reader.searchTraces(query)) {
        const spans = await reader.getTrace(summary.traceId);
        if (spans.length > 0) traces.push(toJaegerTrace(spans));
      }
      return envelope(traces);
    });

    app.get<{ Params: { traceId: string }; Querystring: QueryString }>("/api/traces/:traceId", { config: { scope: "read" } }, async (request) => {
      const traceId = storedTraceId(request.params.traceId);
      if (traceId === null) throw new JaegerParameterError(`TraceID cannot be longer than 32 hex characters or contain other characters: ${request.params.traceId}`);
      checkTraceTimeParams(request.query);
      const spans = await reader.getTrace(traceId);
      if (spans.length === 0) throw new JaegerNotFoundError();
      return envelope([toJaegerTrace(spans)]);
    });

    // Summed per pair, service filter optional; Jaeger's links carry no error count.
    app.get<{ Querystring: QueryString }>("/api/dependencies", { config: { scope: "read" } }, async (request) => {
      const { fromMs, toMs } = dependencyWindow(request.query, now());
      if (fromMs >= toMs) return envelope([]);
      const service = request.query.service;
      const links = (await dependencyLinks(reader, fromMs, toMs)).filter((link) => !service || link.parent === service || link.child === service);
      return envelope(links.map(({ parent, child, callCount }) => ({ parent, child, callCount })));
    });
  };
}
