import { SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Counter, Histogram, type Registry } from "prom-client";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Reuses a metric already registered (a second app on the same registry in one process) instead of throwing. */
function existingOr<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * Request metrics and spans for every route. Labels use the route pattern, never the raw URL, and
 * unknown methods fold into OTHER, so label cardinality is bounded whatever clients send.
 */
export function instrumentRequests(app: FastifyInstance, registry: Registry): void {
  const requests = existingOr(
    registry,
    "meshsight_http_requests_total",
    () => new Counter({ name: "meshsight_http_requests_total", help: "HTTP requests served, by method, route and status code.", labelNames: ["method", "route", "status_code"], registers: [registry] }),
  );
  const durations = existingOr(
    registry,
    "meshsight_http_request_duration_seconds",
    () =>
      new Histogram({
        name: "meshsight_http_request_duration_seconds",
        help: "HTTP request latency, by method and route.",
        labelNames: ["method", "route"],
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        registers: [registry],
      }),
  );
  const tracer = trace.getTracer("meshsight-http");
  // Entries live only while their request does; the WeakMap lets finished requests go.
  const spans = new WeakMap<FastifyRequest, Span>();

  app.addHook("onRequest", (request, _reply, done) => {
    spans.set(request, tracer.startSpan(`HTTP ${request.method}`, { attributes: { "http.request.method": request.method } }));
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const method = KNOWN_METHODS.has(request.method) ? request.method : "OTHER";
    const route = request.routeOptions.url ?? "unmatched";
    requests.inc({ method, route, status_code: String(reply.statusCode) });
    durations.observe({ method, route }, reply.elapsedTime / 1000);
    const span = spans.get(request);
    if (span) {
      span.updateName(`${method} ${route}`);
      span.setAttributes({ "http.route": route, "http.response.status_code": reply.statusCode });
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(request);
    }
    done();
  });
}
