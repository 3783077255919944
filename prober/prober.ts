import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ConfigOf } from "../core/config/section.ts";
import type { Component } from "../core/lifecycle.ts";
import type { OpenState } from "../core/state/port.ts";
import { openFileState } from "../core/state/state-stores.ts";
import type { ProbeResult } from "../core/model/probe.ts";
import type { JobQueue } from "../core/queue/port.ts";
import type { StorageReader, StorageWriter } from "../core/storage/port.ts";
import type { KindLookup } from "./case.ts";
import { ProbeCaseService } from "./case-service.ts";
import { legacyCaseFile } from "./case-store.ts";
import { ProbeCatalog } from "./catalog.ts";
import type { proberSections } from "./sections.ts";
import { blackboxRoute } from "./api/blackbox-route.ts";
import { loadBlackboxModules, type BlackboxModule } from "./blackbox/module-file.ts";
import { eventRoutes } from "./api/event-routes.ts";
import { EgressPolicy } from "./egress/egress-policy.ts";
import { ProbeFiles } from "./kinds/probe-files.ts";
import { probeRoutes } from "./api/probe-routes.ts";
import { kindsFromConfig } from "./kinds/kinds-from-config.ts";
import { ProbeMetrics } from "./metrics/probe-metrics.ts";
import { ResidentLoops } from "./resident/resident-loops.ts";
import { ProbeCaseHistory, type ProbeCaseChange } from "./case-history.ts";
import { OnDemandRuns } from "./runner/on-demand.ts";
import { ProbeRunner } from "./runner/probe-runner.ts";
import { releaseRunner, type ReleaseRunRequest } from "./runner/release-runs.ts";
import { ResultBatcher } from "./runner/result-batcher.ts";
import { CentralScheduler } from "./scheduler/central-scheduler.ts";

/** How often a replica looks for probe cases other replicas stored (one Redis read when nothing changed). */
const SHARED_CASES_SYNC_MS = 2_000;
/** API changes to probe cases remembered for the analysis. */
const MAX_CASE_CHANGES = 1_000;

export type ProberConfigs = ConfigOf<typeof proberSections>;

export interface ProberDeps {
  /** The data dir; the API-defined cases file defaults to <dataDir>/probe-cases.json. */
  dataDir: string;
  storage: Pick<StorageWriter, "writeProbeResults"> & Pick<StorageReader, "queryProbeResults" | "probeSeries">;
  /** The process's queue; its owner closes it after the prober's components stopped (that stops the worker). */
  queue: JobQueue;
  /**
   * Cluster access for k8s-job cases, loaded by cli.ts the standard way (in-cluster service account,
   * KUBECONFIG, ~/.kube/config); with none the k8s-job kind is off.
   */
  kubeConfig?: KubeConfig | null;
  /**
   * URLs of meshsight's own storage and queue (ClickHouse, Redis), from their config: the egress policy
   * never lets a probe reach them (docs/probes.md "Egress policy").
   */
  ownServiceUrls?: readonly (string | undefined)[];
  /** Replaces the kinds built from config (tests inject their own); no Kuberhealthy report route then. */
  kinds?: KindLookup;
  registry: Registry;
  logger: Logger;
  /** Where cases defined through the API live (core/state); default a file under dataDir. */
  openState?: OpenState;
  now?: () => number;
  /** Also told every scheduled run's start delay (benchmarks); the metric gets it either way. */
  onScheduleDelay?: (delayMs: number) => void;
}

export interface Prober {
  /** In start order: results writer, cases, blackbox modules, central scheduler, resident loops. */
  components: Component[];
  routes: FastifyPluginAsync[];
  /** Runs the cases bound to a released service now and resolves with every result (the release gate's probes). */
  runReleaseProbes(request: ReleaseRunRequest): Promise<ProbeResult[]>;
  /** API changes to the cases bound to a service within [fromMs, toMs], oldest first (the analysis cites them). */
  recentCaseChanges: (service: string, fromMs: number, toMs: number) => Promise<ProbeCaseChange[]>;
  /** For tests and benchmarks: the parts behind the components. */
  internals: { catalog: ProbeCatalog; runner: ProbeRunner; results: ResultBatcher; scheduler: CentralScheduler; resident: ResidentLoops; cases: ProbeCaseService };
}

/** The prober component, the one door cli.ts uses: it adds the components to the lifecycle and the routes to the HTTP app. */
export function createProber(deps: ProberDeps, configs: ProberConfigs): Prober {
  const config = configs.prober;
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const configured = deps.kinds ? { kinds: deps.kinds, routes: [] } : kindsFromConfig(config, deps.kubeConfig, logger);
  const kinds = configured.kinds;
  const metrics = new ProbeMetrics(deps.registry);
  const catalog = new ProbeCatalog(config.maxCases);
  const results = new ResultBatcher({
    writer: deps.storage,
    batchSize: config.resultBatchSize,
    flushIntervalMs: config.resultFlushIntervalMs,
    maxBuffered: Math.max(config.maxBufferedResults, config.resultBatchSize),
    logger,
    onDropped: (count, reason) => metrics.countDroppedResults(count, reason),
  });
  const egress = new EgressPolicy({ ...config.egress, ownServiceUrls: (deps.ownServiceUrls ?? []).filter((url) => url !== undefined) });
  const runner = new ProbeRunner({
    kinds,
    egress,
    files: new ProbeFiles(config.filesDir),
    now,
    onResult: (record, probe) => {
      results.push(record.result);
      metrics.record(probe, record);
    },
  });
  catalog.onChange(async (change) => metrics.forget(change.probe.name, change.type === "upsert" ? change.probe.targets : []));
  const limits = { maxTargetsPerCase: config.maxTargetsPerCase, minIntervalMs: config.minIntervalMs, minResidentIntervalMs: config.minIntervalMs, maxTimeoutMs: 300_000 };
  const openState = deps.openState ?? openFileState(now);
  const caseStore = openState("probe-cases", { file: config.casesStoreFile ?? join(deps.dataDir, "probe-cases.json"), limits: { maxKeys: config.maxCases }, legacy: legacyCaseFile });
  const caseHistory = new ProbeCaseHistory(MAX_CASE_CHANGES, now);
  const cases = new ProbeCaseService({
    catalog,
    kinds,
    limits,
    maxCases: config.maxCases,
    casePaths: config.caseFiles,
    store: caseStore,
    history: caseHistory,
    logger,
  });
  const onScheduleDelay = (delayMs: number): void => {
    metrics.observeScheduleDelay(delayMs);
    deps.onScheduleDelay?.(delayMs);
  };
  const scheduler = new CentralScheduler({ queue: deps.queue, catalog, runner, concurrency: { high: config.highPriorityConcurrency, normal: config.workerConcurrency, low: config.lowPriorityConcurrency },
    logger, onScheduleDelay, now });
  const resident = new ResidentLoops({ catalog, runner, logger, onScheduleDelay, now });
  const onDemand = new OnDemandRuns(runner, config.maxOnDemandRuns, logger);
  let syncTimer: NodeJS.Timeout | undefined;
  const caseLoader: Component = {
    name: "probe-cases",
    start: async () => {
      await caseStore.start();
      await cases.load();
      // Cases other replicas store reach this one's schedules without a request asking for them.
      if (!caseStore.isShared) return;
      syncTimer = setInterval(() => void cases.sync().catch((error: unknown) => logger.warn({ err: error }, "could not read the shared probe cases")), SHARED_CASES_SYNC_MS);
      syncTimer.unref();
    },
    stop: async () => {
      clearInterval(syncTimer);
      await caseStore.stop();
    },
  };
  let blackboxModules: ReadonlyMap<string, BlackboxModule> = new Map();
  const blackboxLoader: Component = {
    name: "blackbox-modules",
    start: async () => {
      if (config.blackboxConfigFile !== undefined) blackboxModules = await loadBlackboxModules(config.blackboxConfigFile);
    },
    stop: async () => {},
  };
  const runReleaseProbes = releaseRunner(catalog, onDemand);
  return {
    components: [results, caseLoader, blackboxLoader, scheduler, resident],
    routes: [
      async (app) => {
        // Every probe request first catches up with the cases other replicas stored.
        app.addHook("preHandler", () => cases.sync());
        await app.register(probeRoutes({ cases, catalog, onDemand, reader: deps.storage, now }));
        await app.register(eventRoutes(catalog, onDemand));
        await app.register(blackboxRoute({ catalog, kinds, runner, maxConcurrent: config.maxBlackboxProbes, modules: () => blackboxModules, logger }));
      },
      ...configured.routes,
    ],
    runReleaseProbes: async (request) => {
      await cases.sync();
      return runReleaseProbes(request);
    },
    recentCaseChanges: async (service, fromMs, toMs) => {
      await cases.sync();
      return caseHistory.of(service, fromMs, toMs);
    },
    internals: { catalog, runner, results, scheduler, resident, cases },
  };
}
