/**
 * The collector's read-only API over storage: services, instances, endpoints, topology, metrics, sampled
 * logs and traces, and the trace APIs Grafana's Zipkin and Jaeger data sources read (docs/traces.md). A
 * collector serves it beside its ingest routes; a process with only the api role serves it alone, over
 * the same storage.
 */
import type { FastifyPluginAsync } from "fastify";
import type { StorageReader } from "../../core/storage/port.ts";
import { queryRoutes } from "./query-routes.ts";
import { QueryService } from "./query-service.ts";
import { jaegerQueryRoutes } from "./trace-jaeger-routes.ts";
import { traceRoutes } from "./trace-routes.ts";
import { zipkinQueryRoutes } from "./trace-zipkin-routes.ts";

export function readApiRoutes(reader: StorageReader, now: () => number = Date.now): FastifyPluginAsync[] {
  return [queryRoutes(new QueryService(reader), now), traceRoutes(reader, now), zipkinQueryRoutes(reader, now), jaegerQueryRoutes(reader, now)];
}
