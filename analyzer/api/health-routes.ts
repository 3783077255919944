import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { HealthReport } from "../analysis-round.ts";
import { RULE_SCOPES } from "../rules/rule.ts";

/** GET /api/v1/health?scope=&service=: the last round's verdicts (empty until the first round ran). */
export function healthRoutes(latest: () => HealthReport | undefined): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: Record<string, string | undefined> }>("/api/v1/health", { config: { scope: "read" } }, async (request) => {
      const { scope, service } = request.query;
      if (scope !== undefined && !RULE_SCOPES.includes(scope as never)) throw createError("MS_INVALID_PARAMETER", { name: "scope", detail: `expected one of ${RULE_SCOPES.join(", ")}` });
      const report = latest();
      if (!report) return { evaluatedAt: null, windowMinutes: null, entities: [], skipped: {} };
      return {
        evaluatedAt: new Date(report.evaluatedAtMs).toISOString(),
        windowMinutes: report.windowMinutes,
        entities: report.entities.filter((entity) => (scope === undefined || entity.scope === scope) && (service === undefined || entity.service === service)),
        skipped: report.skipped,
      };
    });
  };
}
