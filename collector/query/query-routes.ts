import type { FastifyPluginAsync } from "fastify";
import type { SeriesQuery, QueryService } from "./query-service.ts";
import {
  detectPointParam,
  invalid,
  limit,
  metricParam,
  optional,
  scopeParam,
  stepParam,
  timeRange,
  type QueryString,
} from "./query-params.ts";

const MAX_LOGS = 1000;

/**
 * The read API of docs/architecture.md ("API contract (v1)"): services, instances, endpoints, topology, metric
 * series and sampled logs, over any time range (`from`/`to`, default the last 30 minutes).
 */
export function queryRoutes(query: QueryService, now: () => number = Date.now): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: QueryString }>("/api/v1/services", { config: { scope: "read" } }, async (request) => query.services(timeRange(request.query, now())));

    app.get<{ Params: { service: string }; Querystring: QueryString }>("/api/v1/services/:service/instances", { config: { scope: "read" } }, async (request) =>
      query.instances(request.params.service, timeRange(request.query, now())),
    );

    app.get<{ Params: { service: string }; Querystring: QueryString }>("/api/v1/services/:service/endpoints", { config: { scope: "read" } }, async (request) =>
      query.endpoints(request.params.service, timeRange(request.query, now())),
    );

    app.get<{ Querystring: QueryString }>("/api/v1/topology", { config: { scope: "read" } }, async (request) =>
      query.topology(timeRange(request.query, now()), optional(request.query, "service")),
    );

    app.get<{ Querystring: QueryString }>("/api/v1/metrics", { config: { scope: "read" } }, async (request) => {
      const range = timeRange(request.query, now());
      return { points: await query.series(seriesQuery(request.query), range) };
    });

    app.get<{ Querystring: QueryString }>("/api/v1/logs", { config: { scope: "read" } }, async (request) => {
      const range = timeRange(request.query, now());
      const service = optional(request.query, "service");
      const endpoint = optional(request.query, "endpoint");
      const traceId = optional(request.query, "traceId");
      return query.logs({
        fromMs: range.fromMs,
        toMs: range.toMs,
        limit: limit(request.query, 100, MAX_LOGS),
        onlyErrors: request.query.errors === "true",
        ...(service === undefined ? {} : { service }),
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(traceId === undefined ? {} : { traceId }),
      });
    });
  };
}

/**
 * Entities are named the way the lists show them: `service` (+ `name` for an instance or endpoint), and
 * for a relation `source` and `target` (service and name are accepted too).
 */
function seriesQuery(query: QueryString): SeriesQuery {
  const scope = scopeParam(query);
  const service = optional(query, scope === "relation" ? "source" : "service") ?? optional(query, "service");
  const name = optional(query, scope === "relation" ? "target" : "name") ?? optional(query, "name");
  if (service === undefined) throw invalid(scope === "relation" ? "source" : "service", "is required");
  if (scope !== "service" && name === undefined) throw invalid(scope === "relation" ? "target" : "name", `is required for scope ${scope}`);
  const step = stepParam(query);
  const detectPoint = detectPointParam(query);
  return {
    scope,
    service,
    metric: metricParam(query),
    ...(scope === "service" ? {} : { name: name ?? "" }),
    ...(step === undefined ? {} : { step }),
    ...(detectPoint === undefined ? {} : { detectPoint }),
  };
}
