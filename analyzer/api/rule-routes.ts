import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import { RuleFileError } from "../rules/rule-file.ts";
import type { AlarmRule } from "../rules/rule.ts";
import type { AlarmRuleStore, LoadedRules } from "../rules/rule-store.ts";

const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"];

/**
 * GET /api/v1/alarm-rules (JSON, or the YAML itself when the client accepts YAML) and PUT with a YAML
 * body: validated whole, applied, and written to the rules file. A bad body leaves the rules unchanged.
 */
export function ruleRoutes(store: AlarmRuleStore): FastifyPluginAsync {
  return async (app) => {
    // Scoped to this plugin: only these routes read YAML bodies.
    app.addContentTypeParser(YAML_TYPES, { parseAs: "string" }, (_request, body, done) => done(null, body));

    app.get("/api/v1/alarm-rules", { config: { scope: "read" } }, async (request, reply) => {
      const loaded = store.current();
      if (YAML_TYPES.slice(0, 4).some((type) => request.headers.accept?.includes(type))) return reply.type("application/yaml").send(loaded.text);
      return rulesView(loaded);
    });

    app.put<{ Body: unknown }>("/api/v1/alarm-rules", { config: { scope: "alerts:write" } }, async (request) => {
      if (typeof request.body !== "string") {
        throw createError("MS_UNSUPPORTED_MEDIA_TYPE", { contentType: request.headers["content-type"] ?? "(none)", accepted: YAML_TYPES.join(", ") });
      }
      try {
        return rulesView(await store.replace(request.body));
      } catch (error) {
        if (error instanceof RuleFileError) throw createError("MS_INVALID_ALARM_RULES", { detail: error.message });
        throw error;
      }
    });
  };
}

function rulesView(loaded: LoadedRules): Record<string, unknown> {
  return {
    source: loaded.source,
    loadedAt: new Date(loaded.loadedAtMs).toISOString(),
    rules: loaded.rules.map(ruleView),
    inactive: loaded.inactive,
    health: loaded.health,
    yaml: loaded.text,
  };
}

function ruleView(rule: AlarmRule): Record<string, unknown> {
  return {
    name: rule.name,
    expression: rule.expression.source,
    scope: rule.scope,
    "include-names": rule.includeNames,
    "include-names-regex": rule.includeNamesRegex?.source ?? null,
    "exclude-names": rule.excludeNames,
    "exclude-names-regex": rule.excludeNamesRegex?.source ?? null,
    period: rule.periodMinutes,
    count: rule.count,
    "silence-period": rule.silencePeriodMinutes,
    "recovery-observation-period": rule.recoveryObservationMinutes,
    message: rule.message,
    labels: rule.labels,
    outputs: rule.outputs,
    format: rule.expression.kind === "mqe" ? "skywalking" : "meshsight",
  };
}
