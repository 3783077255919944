import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import { AuditUnavailableError, type AuditLog } from "./audit-log.ts";
import { TooManyGatesError, type CatalogGate, type GateCatalog } from "./gate-catalog.ts";
import { InvalidGateError } from "./gate-definition.ts";
import { decisionView, type GateEvaluator } from "./gate-evaluator.ts";
import { parseOverride, type OverrideLimits } from "./override-request.ts";

export interface GateRoutesDeps {
  catalog: GateCatalog;
  evaluator: GateEvaluator;
  audit: AuditLog;
  overrideLimits: OverrideLimits;
  now: () => number;
}

const MAX_AUDIT_RECORDS = 1_000;

/** Turns the gate module's own errors into MS_* codes; anything else goes to the shared handler. */
export function asApiError(error: Error): Error {
  if (error instanceof InvalidGateError) return createError("MS_VALIDATION_FAILED", { detail: error.message });
  if (error instanceof TooManyGatesError) return createError("MS_OVERLOADED", { what: "the gate catalog" });
  if (error instanceof AuditUnavailableError) return createError("MS_OVERLOADED", { what: "the gate audit log" });
  return error;
}

export function gateNamed(catalog: GateCatalog, name: string): CatalogGate {
  const gate = catalog.get(name);
  if (!gate) throw createError("MS_NOT_FOUND", { kind: "gate", name });
  return gate;
}

/** Gate definitions, checks, overrides and the audit log (docs/gating.md); access per core/http/auth.ts. */
export function gateRoutes(deps: GateRoutesDeps): FastifyPluginAsync {
  const { catalog, evaluator, audit, now } = deps;
  const view = (gate: CatalogGate) => ({ ...gate.definition, source: gate.source, override: catalog.activeOverride(gate.definition.name, now()) ?? null });

  return async (app) => {
    // Thrown from a scope's handler, the mapped error goes on to buildApp's handler, which renders it.
    app.setErrorHandler((error: Error) => {
      throw asApiError(error);
    });

    app.get("/api/v1/gates", { config: { scope: "read" } }, async () => catalog.list().map(view));

    app.get<{ Params: { name: string } }>("/api/v1/gates/:name", { config: { scope: "read" } }, async (request) => view(gateNamed(catalog, request.params.name)));

    app.put<{ Params: { name: string }; Body: unknown }>("/api/v1/gates/:name", { config: { scope: "admin" } }, async (request) => {
      const gate = await catalog.put(request.params.name, request.body);
      await audit.record({ atMs: now(), who: request.principal, action: "gate.put", gate: gate.definition.name, via: "api", evidence: { definition: gate.definition } });
      return view(gate);
    });

    app.delete<{ Params: { name: string } }>("/api/v1/gates/:name", { config: { scope: "admin" } }, async (request, reply) => {
      const { name } = request.params;
      if (!(await catalog.delete(name))) throw createError("MS_NOT_FOUND", { kind: "gate defined through the API", name });
      await audit.record({ atMs: now(), who: request.principal, action: "gate.delete", gate: name, via: "api", evidence: {} });
      return reply.code(204).send();
    });

    app.post<{ Params: { name: string } }>("/api/v1/gates/:name/check", { config: { scope: "gate:check" } }, async (request) => {
      const decision = await evaluator.check(gateNamed(catalog, request.params.name), { who: request.principal, via: "api" });
      return decisionView(decision);
    });

    app.post<{ Params: { name: string }; Body: unknown }>("/api/v1/gates/:name/override", { config: { scope: "admin" } }, async (request) => {
      const gate = gateNamed(catalog, request.params.name);
      const override = parseOverride(request.body, gate.definition.name, request.principal, now(), deps.overrideLimits);
      await catalog.setOverride(override);
      await audit.record({ atMs: override.createdAtMs, who: request.principal, action: `override.${override.action}`, gate: override.gate, via: "api", evidence: { ...override } });
      return override;
    });

    app.delete<{ Params: { name: string } }>("/api/v1/gates/:name/override", { config: { scope: "admin" } }, async (request, reply) => {
      const gate = gateNamed(catalog, request.params.name);
      const atMs = now();
      const removed = await catalog.clearOverride(gate.definition.name, atMs);
      if (!removed) throw createError("MS_NOT_FOUND", { kind: "override in force on gate", name: gate.definition.name });
      await audit.record({ atMs, who: request.principal, action: "override.clear", gate: gate.definition.name, via: "api", evidence: { removed } });
      return reply.code(204).send();
    });

    app.get<{ Querystring: { gate?: string; limit?: string } }>("/api/v1/gate-audit", { config: { scope: "read" } }, async (request) => {
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_RECORDS) throw createError("MS_INVALID_PARAMETER", { name: "limit", detail: `expected an integer 1..${MAX_AUDIT_RECORDS}` });
      return audit.recent(limit, request.query.gate).map((record) => ({ ...record, at: new Date(record.atMs).toISOString() }));
    });
  };
}
