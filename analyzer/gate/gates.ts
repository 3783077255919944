import { join } from "node:path";
import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../../core/lifecycle.ts";
import type { OpenState } from "../../core/state/port.ts";
import { openFileState } from "../../core/state/state-stores.ts";
import { AuditLog } from "./audit-log.ts";
import { compatRoutes } from "./compat-routes.ts";
import type { GateConfig } from "./config.ts";
import { GateCatalog } from "./gate-catalog.ts";
import type { GateCheckResult } from "./gate-check.ts";
import { GateEvaluator } from "./gate-evaluator.ts";
import { loadGateFiles } from "./gate-files.ts";
import { gateRoutes } from "./gate-routes.ts";
import { legacyGateFile } from "./gate-store.ts";
import { releaseHistory, type ReleaseHistory } from "./release-history.ts";
import { ReleaseProbeCache, type RunReleaseProbes } from "./release-probes.ts";
import type { SloReader } from "./slo-checks.ts";
import { TtlCache } from "./ttl-cache.ts";

export type { RunReleaseProbes };

export interface GatesDeps {
  config: GateConfig;
  /** Default home of the store and audit files. */
  dataDir: string;
  /** Metrics for the SLO checks. */
  reader: SloReader;
  /** Where gates defined through the API and overrides live (core/state); default a file under dataDir. */
  openState?: OpenState;
  /** Runs the gate's probe cases now (cli.ts wires it to the prober). */
  runReleaseProbes: RunReleaseProbes;
  registry: Registry;
  logger: Logger;
  now?: () => number;
}

export interface Gates {
  /** Audit log first (decisions need it), then the catalog (files and stored gates). */
  components: Component[];
  routes: FastifyPluginAsync[];
  /**
   * Checks, overrides and redefinitions of the gates guarding a service within a time range, from this
   * process's audit log: the analysis cites them as release changes near an alert's start.
   */
  recentReleases: ReleaseHistory;
  /** For tests and benchmarks. */
  internals: { catalog: GateCatalog; evaluator: GateEvaluator; audit: AuditLog; probes: ReleaseProbeCache };
}

const MAX_CACHED_PROBE_RUNS = 1_000;

/**
 * The release gate subsystem (docs/gating.md): gates from files and the API, their checks (SLOs over
 * storage, release probes through the prober), overrides and the audit log, and the Flagger and Argo
 * Rollouts endpoints. analyzer/analyzer.ts adds it in processes with the api role.
 */
export function createGates(deps: GatesDeps): Gates {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const audit = new AuditLog({ file: config.auditFile ?? join(deps.dataDir, "gate-audit.jsonl"), maxBytes: config.auditMaxBytes, maxPending: 10_000, recentLimit: 1_000 });
  const openState = deps.openState ?? openFileState(now);
  // Gates and overrides: at most maxGates of each.
  const store = openState("gates", { file: config.storeFile ?? join(deps.dataDir, "gates.json"), limits: { maxKeys: 2 * config.maxGates }, legacy: legacyGateFile });
  const catalog = new GateCatalog(store, config.maxGates, logger);
  const probes = new ReleaseProbeCache({ run: deps.runReleaseProbes, ttlMs: config.probeResultTtlMs, timeoutMs: config.probeTimeoutMs, maxEntries: MAX_CACHED_PROBE_RUNS, now });
  const sloCache = new TtlCache<GateCheckResult[]>({ ttlMs: config.metricsCacheTtlMs, maxEntries: config.maxGates, now });
  const evaluator = new GateEvaluator({ catalog, probes, reader: deps.reader, sloCache, audit, registry: deps.registry, now });
  const auditComponent: Component = { name: "gate-audit", start: () => audit.start(), stop: () => audit.stop() };
  const catalogComponent: Component = {
    name: "gates",
    start: async () => {
      await store.start();
      await catalog.load(await loadGateFiles(config.files, config.maxGates));
      logger.info({ gates: catalog.list().length }, "release gates loaded");
    },
    stop: () => store.stop(),
  };
  const overrideLimits = { defaultTtlMs: config.overrideDefaultTtlMs, maxTtlMs: config.overrideMaxTtlMs };
  return {
    components: [auditComponent, catalogComponent],
    routes: [
      async (app) => {
        // Every gate request first catches up with gates and overrides other replicas stored.
        app.addHook("preHandler", () => catalog.sync());
        await app.register(gateRoutes({ catalog, evaluator, audit, overrideLimits, now }));
        await app.register(compatRoutes(catalog, evaluator));
      },
    ],
    recentReleases: releaseHistory(audit, catalog),
    internals: { catalog, evaluator, audit, probes },
  };
}
