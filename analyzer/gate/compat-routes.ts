import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { CatalogGate, GateCatalog } from "./gate-catalog.ts";
import { checkView } from "./gate-check.ts";
import { decisionView, type GateDecision, type GateEvaluator } from "./gate-evaluator.ts";
import { asApiError, gateNamed } from "./gate-routes.ts";

/**
 * The gate in the protocols deployment tools already speak (reference: probing-alerting-gating.md §2, §3).
 *
 * Flagger webhooks (pre-rollout, rollout, confirm-promotion): Flagger passes a hook on a status <= 202 and
 * fails it on anything else, logging the body into the canary's events. So: 200 pass, 403 fail, 503 (with
 * Retry-After) when there is not enough data yet; the body says why.
 *
 * Argo Rollouts `web` metric: a non-2xx answer is an Error measurement, not a failure, so the endpoint
 * always answers 200 with a verdict the AnalysisTemplate's successCondition / failureCondition test.
 */

/** What Flagger POSTs to every webhook (pkg/controller/webhook.go, CanaryWebhookPayload). */
export interface FlaggerPayload {
  name: string;
  namespace: string;
  phase: string;
  checksum: string;
  metadata: Record<string, string>;
}

export function parseFlaggerPayload(body: unknown): FlaggerPayload {
  const bad = (detail: string) => createError("MS_VALIDATION_FAILED", { detail: `not a Flagger webhook payload: ${detail}` });
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw bad('expected {"name","namespace","phase","checksum","metadata"}');
  const fields = body as Record<string, unknown>;
  for (const key of ["name", "namespace", "phase"] as const) {
    if (typeof fields[key] !== "string" || fields[key] === "") throw bad(`field ${key}: expected a non-empty string`);
  }
  if (fields.checksum !== undefined && typeof fields.checksum !== "string") throw bad("field checksum: expected a string");
  const metadata: Record<string, string> = {};
  if (fields.metadata !== undefined && fields.metadata !== null) {
    if (typeof fields.metadata !== "object" || Array.isArray(fields.metadata)) throw bad("field metadata: expected an object of strings");
    for (const [key, value] of Object.entries(fields.metadata)) {
      if (typeof value !== "string") throw bad(`field metadata.${key}: expected a string (Flagger metadata is map[string]string)`);
      metadata[key] = value;
    }
  }
  return { name: fields.name as string, namespace: fields.namespace as string, phase: fields.phase as string, checksum: (fields.checksum) ?? "", metadata };
}

/** The failing (or undecided) checks in one line: what Flagger shows in `kubectl describe canary`. */
export function reasonsOf(decision: GateDecision): string {
  const failing = decision.checks.filter((check) => check.status !== "ok");
  const shown = failing.length > 0 ? failing : decision.checks;
  return `gate ${decision.gate}: ${decision.verdict}: ${shown.map((check) => `${check.name}: ${check.message}`).join("; ")}`;
}

const FLAGGER_STATUS = { pass: 200, fail: 403, "insufficient-data": 503 } as const;

export function compatRoutes(catalog: GateCatalog, evaluator: GateEvaluator): FastifyPluginAsync {
  const answerFlagger = async (gate: CatalogGate, payload: FlaggerPayload, who: string, reply: FastifyReply) => {
    const decision = await evaluator.check(gate, {
      who,
      via: "flagger",
      // metadata.checks: probes -> for pre-rollout hooks, which run before the canary gets any traffic.
      isProbesOnly: payload.metadata.checks === "probes",
      context: { flagger: { name: payload.name, namespace: payload.namespace, phase: payload.phase, checksum: payload.checksum, metadata: payload.metadata } },
    });
    const status = FLAGGER_STATUS[decision.verdict];
    if (status === 503) void reply.header("retry-after", "30");
    return reply.code(status).send({ reasons: reasonsOf(decision), ...decisionView(decision) });
  };

  return async (app) => {
    app.setErrorHandler((error: Error) => {
      throw asApiError(error);
    });

    app.post<{ Params: { name: string }; Body: unknown }>("/api/v1/gates/:name/flagger", { config: { scope: "gate:check" } }, async (request, reply) => {
      const payload = parseFlaggerPayload(request.body);
      return answerFlagger(gateNamed(catalog, request.params.name), payload, request.principal, reply);
    });

    app.post<{ Body: unknown }>("/api/v1/flagger/gate", { config: { scope: "gate:check" } }, async (request, reply) => {
      const payload = parseFlaggerPayload(request.body);
      const matches = catalog.findForFlagger({ name: payload.name, namespace: payload.namespace, ...(payload.metadata.gate === undefined ? {} : { gate: payload.metadata.gate }) });
      const [gate, ...others] = matches;
      if (!gate) throw createError("MS_NOT_FOUND", { kind: "gate for canary", name: payload.metadata.gate ?? `${payload.name}.${payload.namespace}` });
      if (others.length > 0) {
        const names = matches.map((match) => match.definition.name).join(", ");
        throw createError("MS_VALIDATION_FAILED", { detail: `gates ${names} all match canary ${payload.name}.${payload.namespace}; name one in the webhook's metadata.gate` });
      }
      return answerFlagger(gate, payload, request.principal, reply);
    });

    app.get<{ Params: { name: string } }>("/api/v1/gates/:name/analysis", { config: { scope: "gate:check" } }, async (request) => {
      const decision = await evaluator.check(gateNamed(catalog, request.params.name), { who: request.principal, via: "argo" });
      const failing = decision.checks.filter((check) => check.status !== "ok").map(checkView);
      return { ...decisionView(decision), ok: decision.verdict === "pass", failing, reasons: reasonsOf(decision) };
    });
  };
}
