import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import { RateLimitedLog } from "../../core/telemetry/rate-limited-log.ts";
import { STANDARD_MODULES, type BlackboxModule } from "../blackbox/module-file.ts";
import { BadTargetError, planModule } from "../blackbox/module-plan.ts";
import { createError } from "../../core/http/errors.ts";
import { InvalidProbeSpecError } from "../kinds/kind.ts";
import type { KindLookup, ProbeCase } from "../case.ts";
import type { ProbeCatalog } from "../catalog.ts";
import type { ProbeRunner } from "../runner/probe-runner.ts";
import { renderBlackboxMetrics } from "../metrics/blackbox-text.ts";
import { invalid, type QueryString } from "./params.ts";

export interface BlackboxRouteDeps {
  catalog: ProbeCatalog;
  kinds: KindLookup;
  runner: ProbeRunner;
  /** Ad-hoc probes at once; more get 503 so a scrape storm cannot open unbounded sockets. */
  maxConcurrent: number;
  /** The modules of prober.blackboxConfigFile (empty without one); read at each request, so a start-time load shows. */
  modules: () => ReadonlyMap<string, BlackboxModule>;
  logger: Logger;
}

/** blackbox_exporter's default when neither module timeout nor scrape header say otherwise is 120 s; ours is shorter. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** blackbox_exporter's --timeout-offset: leave Prometheus time to receive the answer. */
const TIMEOUT_OFFSET_MS = 500;

/**
 * `GET /probe?target=&module=`, the blackbox_exporter protocol. `module` names, first found: a module of
 * the blackbox modules file, a probe case (its spec and timeout are used against the given target), a
 * module of blackbox_exporter's shipped blackbox.yml, or a kind with its default spec.
 * 200 with metrics even when the probe failed or cannot run here (read probe_success; the log says why);
 * 400 for a missing or unusable target or an unknown module, as blackbox_exporter answers
 * (https://github.com/prometheus/blackbox_exporter/blob/master/prober/handler.go).
 * Ad-hoc runs are not stored and make no per-target series: the target comes from the URL.
 */
export function blackboxRoute(deps: BlackboxRouteDeps): FastifyPluginAsync {
  let running = 0;
  const unsupportedLog = new RateLimitedLog(deps.logger);
  return async (app) => {
    // The blackbox /probe sends traffic wherever its target says: a read in form, a probe run in effect.
    app.get<{ Querystring: QueryString }>("/probe", { config: { scope: "probes:run" } }, async (request, reply) => {
      const target = request.query.target;
      if (target === undefined || target === "") throw invalid("target", "target parameter is missing");
      const moduleName = request.query.module ?? "http_2xx";
      const planned = moduleCase(deps, moduleName, target, scrapeTimeoutMs(request.headers["x-prometheus-scrape-timeout-seconds"]));
      if ("unsupported" in planned) {
        unsupportedLog.warn(`blackbox-module:${moduleName}`, { module: moduleName, target, reason: planned.unsupported }, "blackbox module cannot run here; answering probe_success 0");
        return reply.type("text/plain; version=0.0.4; charset=utf-8").send(renderBlackboxMetrics("", { status: "error", message: planned.unsupported, phases: {}, metrics: {} }, 0));
      }
      const { probe, target: runTarget } = planned;
      if (running >= deps.maxConcurrent) throw createError("MS_OVERLOADED", { what: "the blackbox /probe endpoint" });
      running += 1;
      try {
        const { result, outcome } = await deps.runner.run(probe, runTarget, { record: false });
        return reply.type("text/plain; version=0.0.4; charset=utf-8").send(renderBlackboxMetrics(probe.kind, outcome, result.durationMs));
      } finally {
        running -= 1;
      }
    });
  };
}

function scrapeTimeoutMs(header: string | string[] | undefined): number | undefined {
  if (typeof header !== "string") return undefined;
  const seconds = Number(header);
  if (!Number.isFinite(seconds) || seconds <= 0) throw invalid("X-Prometheus-Scrape-Timeout-Seconds", "expected a positive number of seconds");
  return Math.max(1, seconds * 1000 - TIMEOUT_OFFSET_MS);
}

type PlannedCase = { probe: ProbeCase; target: string } | { unsupported: string };

function moduleCase(deps: BlackboxRouteDeps, module: string, target: string, scrapeTimeoutMs: number | undefined): PlannedCase {
  const limit = (timeoutMs: number) => Math.min(timeoutMs, scrapeTimeoutMs ?? timeoutMs);
  const fromFile = deps.modules().get(module);
  if (fromFile) return blackboxModuleCase(deps, fromFile, target, limit);
  const existing = deps.catalog.get(module);
  if (existing) return { probe: { ...existing, retries: 0, timeoutMs: limit(existing.timeoutMs) }, target };
  const standard = STANDARD_MODULES.get(module);
  if (standard) return blackboxModuleCase(deps, standard, target, limit);
  const kind = deps.kinds(module);
  if (!kind) throw invalid("module", `unknown module ${JSON.stringify(module)}: name a blackbox module, a probe case or a kind`);
  let spec: unknown;
  try {
    spec = kind.parseSpec({});
  } catch (error) {
    if (error instanceof InvalidProbeSpecError) throw invalid("module", `kind ${module} needs a spec; define a probe case and name it as the module (${error.message})`);
    throw error;
  }
  return { probe: adHocCase(module, module, spec, limit(DEFAULT_TIMEOUT_MS)), target };
}

function blackboxModuleCase(deps: BlackboxRouteDeps, module: BlackboxModule, target: string, limit: (timeoutMs: number) => number): PlannedCase {
  let plan;
  try {
    plan = planModule(module, target);
  } catch (error) {
    if (error instanceof BadTargetError) throw invalid("target", error.message);
    throw error;
  }
  if ("unsupported" in plan) return plan;
  const kind = deps.kinds(plan.kind);
  if (!kind) return { unsupported: `module ${module.name}: the ${plan.kind} kind is not enabled in this meshsight` };
  try {
    return { probe: adHocCase(module.name, plan.kind, kind.parseSpec(plan.spec), limit(module.timeoutMs ?? DEFAULT_TIMEOUT_MS)), target: plan.target };
  } catch (error) {
    if (error instanceof InvalidProbeSpecError) return { unsupported: `module ${module.name}: ${error.message}` };
    throw error;
  }
}

function adHocCase(module: string, kindName: string, spec: unknown, timeoutMs: number): ProbeCase {
  return {
    name: module,
    kind: kindName,
    targets: [],
    service: "",
    schedule: { type: "manual" },
    timeoutMs,
    retries: 0,
    labels: {},
    resident: false,
    priority: "normal",
    spec,
    definition: { name: module, kind: kindName, targets: [] },
  };
}
