import type { KubeConfig } from "@kubernetes/client-node";
import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ConfigOf } from "../core/config/section.ts";
import type { ServerRole } from "../core/config/sections/server.ts";
import type { Component } from "../core/lifecycle.ts";
import type { JobQueue } from "../core/queue/port.ts";
import type { OpenState } from "../core/state/port.ts";
import type { StorageReader } from "../core/storage/port.ts";
import type { RejectCounter } from "../core/telemetry/rejects.ts";
import { createSelfHealing } from "./actions/self-healing.ts";
import { fanOutDispatcher } from "./alerts/notification.ts";
import { createAlertOutputs, createAnalysis } from "./analysis.ts";
import { createGates, type RunReleaseProbes } from "./gate/gates.ts";
import type { analyzerSections } from "./sections.ts";

/**
 * The analyzer component, the one door cli.ts uses. Inside it three subsystems stand apart, each behind its
 * own entry (docs/architecture.md, "Layout"): analysis (analysis.ts: health, alarm rules, alerts, root cause,
 * alert outputs), the release gate (gate/gates.ts) and self-healing (actions/self-healing.ts: actions and the
 * risk guard). They meet only here, and through the alert notification contract (alerts/notification.ts).
 */

export type AnalyzerConfigs = ConfigOf<typeof analyzerSections>;

export interface AnalyzerDeps {
  /**
   * Which parts run (docs/configuration.md "Roles"): with `analyzer`, analysis rounds, alert delivery and
   * self-healing; with `api`, the alert, silence and rule APIs over the shared state, and the release gate.
   */
  roles: ReadonlySet<ServerRole>;
  /** storage.dataDir: default home of the rules, state and audit files. */
  dataDir: string;
  reader: StorageReader;
  queue: JobQueue;
  /** The state port's namespaces (core/state): alert, guard and gate state live there, shared with Redis. */
  openState: OpenState;
  /** Runs a release's probe cases now; cli.ts hands the prober's (or a refusal when this process has none). */
  runReleaseProbes: RunReleaseProbes;
  /** The prober's API changes to the probe cases of a service in a time range; cli.ts hands them when this process probes. */
  recentProbeCaseChanges?: (service: string, fromMs: number, toMs: number) => Promise<ReadonlyArray<{ probe: string; action: "put" | "delete"; atMs: number }>>;
  /** Cluster access for self-healing's Kubernetes actions; null: they fail with a clear reason. */
  kubeConfig: KubeConfig | null;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
}

export interface Analyzer {
  /** In start order: alert outputs, self-healing, analysis, release gate. */
  components: Component[];
  routes: FastifyPluginAsync[];
}

export function createAnalyzer(deps: AnalyzerDeps, config: AnalyzerConfigs): Analyzer {
  const { roles, logger } = deps;
  const runsRounds = roles.has("analyzer");
  const components: Component[] = [];
  const routes: FastifyPluginAsync[] = [];
  if (!runsRounds && !roles.has("api")) return { components, routes };
  const outputs = createAlertOutputs({ config: config.outputs, queue: deps.queue, registry: deps.registry, logger });
  const selfHealing = runsRounds
    ? createSelfHealing({
        config: config.actions,
        dataDir: deps.dataDir,
        logger,
        registry: deps.registry,
        rejects: deps.rejects,
        outputs: outputs.dispatcher,
        renewals: outputs.renewals,
        kubeConfig: deps.kubeConfig,
        openState: deps.openState,
      })
    : undefined;
  // Gates run only where the api role is; the analysis cites their audited acts when they share the process.
  const gates = roles.has("api")
    ? createGates({ config: config.gates, dataDir: deps.dataDir, reader: deps.reader, openState: deps.openState, runReleaseProbes: deps.runReleaseProbes, registry: deps.registry, logger })
    : undefined;
  const analysis = createAnalysis({
    config: config.analyzer,
    dataDir: deps.dataDir,
    reader: deps.reader,
    dispatcher: fanOutDispatcher([outputs.dispatcher, ...(selfHealing ? [selfHealing.dispatcher] : [])], (error) => logger.error({ error: String(error) }, "alert dispatch failed")),
    renewals: outputs.renewals,
    registry: deps.registry,
    logger,
    queue: deps.queue,
    // An api-only process serves alerts and silences from the state the analyzing replicas share; no rounds.
    runsRounds,
    openState: deps.openState,
    ...(gates ? { recentReleases: gates.recentReleases } : {}),
    ...(deps.recentProbeCaseChanges ? { recentProbeCaseChanges: deps.recentProbeCaseChanges } : {}),
  });
  if (selfHealing) {
    // Outputs and self-healing take notifications before the first analysis round sends any.
    components.push(...outputs.components, ...selfHealing.components);
    routes.push(...outputs.routes, ...selfHealing.routes);
  }
  components.push(...analysis.components);
  routes.push(...analysis.routes);
  if (gates) {
    components.push(...gates.components);
    routes.push(...gates.routes);
  }
  return { components, routes };
}
