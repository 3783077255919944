import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import { InvalidProbeCaseError, type ProbeCase } from "../case.ts";
import { NameMismatchError, type ProbeCaseService } from "../case-service.ts";
import { TooManyCasesError, type ProbeCatalog } from "../catalog.ts";
import { TooManyRunsError, type OnDemandRuns, type StartedRun } from "../runner/on-demand.ts";
import { booleanParam, invalid, limitParam, statusParam, stepParam, timeRange, type QueryString } from "./params.ts";

export interface ProbeRoutesDeps {
  cases: ProbeCaseService;
  catalog: ProbeCatalog;
  onDemand: OnDemandRuns;
  reader: Pick<StorageReader, "queryProbeResults" | "probeSeries">;
  now?: () => number;
}

const MAX_RESULTS = 1_000;

/** Probe cases and runs (docs/architecture.md "API contract (v1)"); docs/probes.md shows examples. */
export function probeRoutes(deps: ProbeRoutesDeps): FastifyPluginAsync {
  const now = deps.now ?? Date.now;
  const caseNamed = (name: string): ProbeCase => {
    const probe = deps.catalog.get(name);
    if (!probe) throw createError("MS_NOT_FOUND", { kind: "probe case", name });
    return probe;
  };

  return async (app) => {
    app.get("/api/v1/probes", { config: { scope: "read" } }, async () => deps.catalog.list().map(caseView));

    app.get<{ Params: { name: string } }>("/api/v1/probes/:name", { config: { scope: "read" } }, async (request) => caseView(caseNamed(request.params.name)));

    app.put<{ Params: { name: string }; Body: unknown }>("/api/v1/probes/:name", { config: { scope: "probes:write" } }, async (request) => {
      try {
        return caseView(await deps.cases.put(request.params.name, request.body));
      } catch (error) {
        if (error instanceof InvalidProbeCaseError || error instanceof NameMismatchError) throw createError("MS_VALIDATION_FAILED", { detail: error.message });
        if (error instanceof TooManyCasesError) throw createError("MS_OVERLOADED", { what: "the probe case catalog" });
        throw error;
      }
    });

    app.delete<{ Params: { name: string } }>("/api/v1/probes/:name", { config: { scope: "probes:write" } }, async (request, reply) => {
      if (!(await deps.cases.delete(request.params.name))) throw createError("MS_NOT_FOUND", { kind: "probe case", name: request.params.name });
      return reply.code(204).send();
    });

    app.post<{ Params: { name: string }; Querystring: QueryString }>("/api/v1/probes/:name/run", { config: { scope: "probes:run" } }, async (request, reply) => {
      const probe = caseNamed(request.params.name);
      const target = request.query.target;
      if (target !== undefined && !probe.targets.includes(target)) throw invalid("target", `case "${probe.name}" has no target ${JSON.stringify(target)}`);
      const run = startRun(deps.onDemand, probe, target);
      if (!booleanParam(request.query, "wait")) return reply.code(202).send({ runId: run.runId });
      return { runId: run.runId, results: await run.done };
    });

    app.get<{ Params: { name: string }; Querystring: QueryString }>("/api/v1/probes/:name/results", { config: { scope: "read" } }, async (request) => {
      const range = timeRange(request.query, now());
      const status = statusParam(request.query);
      const { target } = request.query;
      return deps.reader.queryProbeResults({
        ...range,
        probe: request.params.name,
        limit: limitParam(request.query, 100, MAX_RESULTS),
        ...(target === undefined ? {} : { target }),
        ...(status === undefined ? {} : { status }),
      });
    });

    app.get<{ Params: { name: string }; Querystring: QueryString }>("/api/v1/probes/:name/series", { config: { scope: "read" } }, async (request) => {
      const range = timeRange(request.query, now());
      const { target } = request.query;
      const points = await deps.reader.probeSeries({ ...range, probe: request.params.name, resolution: stepParam(request.query), ...(target === undefined ? {} : { target }) });
      return {
        points: points.map((point) => ({
          t: point.timeMs,
          target: point.target,
          runs: point.runs,
          failures: point.failures,
          successRate: point.runs === 0 ? null : (point.runs - point.failures) / point.runs,
          avgDurationMs: point.runs === 0 ? null : point.durationSumMs / point.runs,
          maxDurationMs: point.maxDurationMs,
        })),
      };
    });
  };
}

export function startRun(onDemand: OnDemandRuns, probe: ProbeCase, target?: string): StartedRun {
  try {
    return onDemand.start(probe, target);
  } catch (error) {
    if (error instanceof TooManyRunsError) throw createError("MS_OVERLOADED", { what: "on-demand probe running" });
    throw error;
  }
}

/** A case as the API shows it: the definition as given plus the resolved defaults. */
function caseView(probe: ProbeCase): Record<string, unknown> {
  return {
    ...probe.definition,
    name: probe.name,
    service: probe.service,
    targets: probe.targets,
    timeoutMs: probe.timeoutMs,
    retries: probe.retries,
    resident: probe.resident,
    priority: probe.priority,
    labels: probe.labels,
  };
}
