import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { ProbeCatalog } from "../catalog.ts";
import type { OnDemandRuns } from "../runner/on-demand.ts";
import { startRun } from "./probe-routes.ts";

interface ReleaseEvent {
  type: "release";
  service: string;
  version: string;
}

function parseEvent(body: unknown): ReleaseEvent {
  const bad = (detail: string) => createError("MS_VALIDATION_FAILED", { detail });
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw bad('expected a JSON object such as {"type":"release","service":"checkout.default","version":"1.2.0"}');
  const event = body as Record<string, unknown>;
  if (event.type !== "release") throw bad(`field type: expected "release", got ${JSON.stringify(event.type)}`);
  if (typeof event.service !== "string" || event.service === "") throw bad("field service: expected the service name the cases are bound to");
  if (event.version !== undefined && typeof event.version !== "string") throw bad("field version: expected a string");
  return { type: "release", service: event.service, version: typeof event.version === "string" ? event.version : "" };
}

/**
 * Events that trigger probes now. A release of a service runs every case bound to it (the release gate
 * calls this, then reads the results by run id).
 */
export function eventRoutes(catalog: ProbeCatalog, onDemand: OnDemandRuns): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: unknown }>("/api/v1/events", { config: { scope: "probes:run" } }, async (request, reply) => {
      const event = parseEvent(request.body);
      const runs = catalog.boundTo(event.service).map((probe) => ({ probe: probe.name, runId: startRun(onDemand, probe).runId }));
      return reply.code(202).send({ type: event.type, service: event.service, version: event.version, runs });
    });
  };
}
