import type { FastifyPluginAsync } from "fastify";
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
}

/** blackbox_exporter's default when neither module timeout nor scrape header say otherwise is 120 s; ours is shorter. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** blackbox_exporter's --timeout-offset: leave Prometheus time to receive the answer. */
const TIMEOUT_OFFSET_MS = 500;

/**
 * `GET /probe?target=&module=`, the blackbox_exporter protocol: `module` names a probe case (its spec and
 * timeout are used against the given target) or a kind with its default spec ("http_2xx" means http).
 * 200 with metrics even when the probe failed (read probe_success); 400 for a missing target or an
 * unknown module. Ad-hoc runs are not stored and make no per-target series: the target comes from the URL.
 */
export function blackboxRoute(deps: BlackboxRouteDeps): FastifyPluginAsync {
  let running = 0;
  return async (app) => {
    // The blackbox /probe sends traffic wherever its target says: a read in form, a probe run in effect.
    app.get<{ Querystring: QueryString }>("/probe", { config: { scope: "probes:write" } }, async (request, reply) => {
      const target = request.query.target;
      if (target === undefined || target === "") throw invalid("target", "target parameter is missing");
      const probe = moduleCase(deps, request.query.module ?? "http_2xx", scrapeTimeoutMs(request.headers["x-prometheus-scrape-timeout-seconds"]));
      if (running >= deps.maxConcurrent) throw createError("MS_OVERLOADED", { what: "the blackbox /probe endpoint" });
      running += 1;
      try {
        const { result, outcome } = await deps.runner.run(probe, target, { record: false });
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

function moduleCase(deps: BlackboxRouteDeps, module: string, scrapeTimeoutMs: number | undefined): ProbeCase {
  const limit = (timeoutMs: number) => Math.min(timeoutMs, scrapeTimeoutMs ?? timeoutMs);
  const existing = deps.catalog.get(module);
  if (existing) return { ...existing, retries: 0, timeoutMs: limit(existing.timeoutMs) };
  const kindName = module === "http_2xx" ? "http" : module;
  const kind = deps.kinds(kindName);
  if (!kind) throw invalid("module", `unknown module ${JSON.stringify(module)}: name a probe case or a kind`);
  let spec: unknown;
  try {
    spec = kind.parseSpec({});
  } catch (error) {
    if (error instanceof InvalidProbeSpecError) throw invalid("module", `kind ${kindName} needs a spec; define a probe case and name it as the module (${error.message})`);
    throw error;
  }
  return {
    name: module,
    kind: kindName,
    targets: [],
    service: "",
    schedule: { type: "manual" },
    timeoutMs: limit(DEFAULT_TIMEOUT_MS),
    retries: 0,
    labels: {},
    resident: false,
    priority: "normal",
    spec,
    definition: { name: module, kind: kindName, targets: [] },
  };
}
