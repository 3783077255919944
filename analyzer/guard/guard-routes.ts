import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { GuardAudit } from "./guard-audit.ts";
import type { RiskGuard } from "./risk-guard.ts";

const MAX_AUDIT_RECORDS = 1_000;

/** The guard's state, its audit, and the operator's reset (access per core/http/auth.ts: actions:write). */
export function guardRoutes(guard: RiskGuard, audit: GuardAudit): FastifyPluginAsync {
  return async (app) => {
    // `key` narrows to one bucket: the guard's alerts link here (their generatorURL in Alertmanager).
    app.get<{ Querystring: { key?: string } }>("/api/v1/guard", { config: { scope: "read" } }, async (request) => {
      const { key } = request.query;
      const buckets = await guard.buckets();
      return { buckets: key === undefined ? buckets : buckets.filter((bucket) => bucket.key === key) };
    });

    app.get<{ Querystring: { limit?: string } }>("/api/v1/guard/audit", { config: { scope: "read" } }, async (request) => {
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_RECORDS) throw createError("MS_INVALID_PARAMETER", { name: "limit", detail: `expected an integer 1..${MAX_AUDIT_RECORDS}` });
      return audit.recent(limit).map((record) => ({ ...record, at: new Date(record.atMs).toISOString() }));
    });

    // The key travels in the body: it holds '/' and '@' ("delete-pod@namespace/default").
    app.post<{ Body: unknown }>("/api/v1/guard/reset", { config: { scope: "actions:write" } }, async (request) => {
      const key = typeof request.body === "object" && request.body !== null ? (request.body as { key?: unknown }).key : undefined;
      if (typeof key !== "string" || key === "") throw createError("MS_VALIDATION_FAILED", { detail: 'expected {"key": "<bucket key from GET /api/v1/guard>"}' });
      if (!(await guard.reset(key, request.principal))) throw createError("MS_NOT_FOUND", { kind: "tripped guard bucket", name: key });
      return { key, reset: true };
    });
  };
}
