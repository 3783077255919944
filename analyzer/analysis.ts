import { join } from "node:path";
import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../core/lifecycle.ts";
import { InlineQueue } from "../core/queue/inline.ts";
import type { JobQueue } from "../core/queue/port.ts";
import type { OpenState } from "../core/state/port.ts";
import { openFileState } from "../core/state/state-stores.ts";
import type { StorageReader } from "../core/storage/port.ts";
import { AlertBook, type RoundChanges } from "./alerts/alert-book.ts";
import { logAlertChanges } from "./alerts/alert-log.ts";
import { legacyAlertStateFile, StateAlertStore } from "./alerts/alert-state-store.ts";
import { AlertStateSync } from "./alerts/alert-state-sync.ts";
import { standingNotifications } from "./alerts/notification-policy.ts";
import type { AlertDispatcher, StandingAlertRegistry } from "./alerts/notification.ts";
import { SilenceBook } from "./alerts/silences.ts";
import { AnalysisLoop } from "./analysis-loop.ts";
import { AnalysisRound, type RootCauseLookup } from "./analysis-round.ts";
import { AnalyzerMetrics } from "./analyzer-metrics.ts";
import { alertRoutes } from "./api/alert-routes.ts";
import { healthRoutes } from "./api/health-routes.ts";
import { ruleRoutes } from "./api/rule-routes.ts";
import { silenceRoutes } from "./api/silence-routes.ts";
import type { AnalyzerConfig } from "./config.ts";
import type { RecentProbeCaseChanges } from "./rca/recent-changes.ts";
import type { RecentReleases } from "./rca/release-changes.ts";
import { createRootCauseFinder } from "./rca/root-cause.ts";
import { AlarmRuleStore } from "./rules/rule-store.ts";

export { createAlertOutputs } from "./outputs/alert-outputs.ts";

export interface AnalysisDeps {
  config: AnalyzerConfig;
  /** storage.dataDir: default home of the rules file and the alert state file. */
  dataDir: string;
  reader: StorageReader;
  /** The alert outputs (analyzer/outputs); dispatch only enqueues. */
  dispatcher: AlertDispatcher;
  /** The outputs' lease renewals: firing alerts are re-sent there on the outputs' own timer, whatever the rules say. */
  renewals?: StandingAlertRegistry;
  /** Root-cause analysis; default analyzer/rca's finder over `reader`. */
  rootCauses?: RootCauseLookup;
  /**
   * The release gate's recent acts per service, cited by the default finder when they came shortly before an
   * alert's symptoms (analyzer/analyzer.ts hands the gate's audit history when this process serves gates).
   */
  recentReleases?: RecentReleases;
  /** The prober's API changes to probe cases per service, cited like release acts (cli.ts hands them when this process probes). */
  recentProbeCaseChanges?: RecentProbeCaseChanges;
  registry: Registry;
  logger: Logger;
  /**
   * The process's queue: rounds are driven by its "analysis" schedule, so with BullMQ one replica runs each
   * round. Default: a private in-process queue (one process alone).
   */
  queue?: JobQueue;
  /**
   * False in a process that only serves the API: alerts, silences and rules are served from the state the
   * analyzing replicas share, but this process runs no rounds. Default true.
   */
  runsRounds?: boolean;
  /**
   * Where alerts and silences live (core/state): with Redis shared by the replicas, whichever of them runs a
   * round; default a file, analyzer.stateFile.
   */
  openState?: OpenState;
  now?: () => number;
}

export interface Analysis {
  /** In start order: rules, alert state, analysis rounds (when it runs them). */
  components: Component[];
  routes: FastifyPluginAsync[];
  /** For tests: the parts behind the components, and one round on demand. */
  internals: {
    rules: AlarmRuleStore;
    book: AlertBook;
    silences: SilenceBook;
    round: AnalysisRound;
    loop: AnalysisLoop;
    runRound(nowMs: number): Promise<RoundChanges>;
  };
}

/**
 * The analysis subsystem (docs/alerting.md): every interval, health, alarm rules and alerts with their root
 * cause, handed to the alert outputs. analyzer/analyzer.ts adds it next to the release gate and self-healing.
 */
export function createAnalysis(deps: AnalysisDeps): Analysis {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const metrics = new AnalyzerMetrics(deps.registry, config.maxHealthSeries);
  const rules = new AlarmRuleStore({
    file: config.rulesFile ?? join(deps.dataDir, "alarm-rules.yaml"),
    logger,
    debounceMs: config.reloadDebounceMs,
    onReload: (result) => metrics.countRuleReload(result),
    now,
  });
  const book = new AlertBook({ maxHistory: config.maxAlertHistory });
  const silences = new SilenceBook(config.maxSilences);
  const openState = deps.openState ?? openFileState(now);
  const store = new StateAlertStore(openState("analyzer", { file: config.stateFile ?? join(deps.dataDir, "alerts-state.json"), limits: { maxKeys: 2 }, legacy: legacyAlertStateFile }));
  const state = new AlertStateSync({ store, book, silences, refreshIntervalMs: config.intervalMs, onLoaded: () => metrics.setAlerts(book.snapshot()), logger });
  const round = new AnalysisRound({
    reader: deps.reader,
    rules: () => rules.current(),
    book,
    silences,
    rootCauses: deps.rootCauses ?? createRootCauseFinder({ reader: deps.reader, logger, now, ...(deps.recentReleases ? { recentReleases: deps.recentReleases } : {}), ...(deps.recentProbeCaseChanges ? { recentProbeCaseChanges: deps.recentProbeCaseChanges } : {}) }),
    dispatcher: deps.dispatcher,
    metrics,
    logger,
    limits: config,
  });
  const runRound = (nowMs: number): Promise<RoundChanges> =>
    state.exclusive(async () => {
      await state.beforeRound();
      const changes = await round.run(nowMs);
      logAlertChanges(logger, changes);
      await state.afterRound();
      return changes;
    });
  const queue: JobQueue = deps.queue ?? new InlineQueue({ maxPending: 10, logger });
  const ownQueue = deps.queue === undefined ? queue : undefined;
  const loop = new AnalysisLoop({ queue, intervalMs: config.intervalMs, isRoundAtStart: !state.isShared, runRound: async (nowMs) => void (await runRound(nowMs)), now, logger, onRound: (result, seconds) => metrics.countRound(result, seconds) });
  // Reads the book as the last round (on any replica) left it, one at a time with rounds and loads.
  deps.renewals?.add(() =>
    state.exclusive(async () => {
      await state.beforeRound();
      return standingNotifications(book.firing());
    }),
  );
  const onSilencesChanged = async (): Promise<void> => {
    state.noteSilenceEdit();
    const nowMs = now();
    for (const record of book.firing()) round.applySilences(record, nowMs);
    metrics.setAlerts(book.snapshot());
    await state.exclusive(() => state.afterSilenceEdit());
  };

  const components: Component[] = [
    { name: "analyzer.rules", start: () => rules.start(), stop: () => rules.stop() },
    { name: "analyzer.state", start: () => state.start(), stop: () => state.stop() },
  ];
  if (deps.runsRounds ?? true) {
    components.push({
      name: "analyzer.rounds",
      start: () => loop.start(),
      stop: async () => {
        await loop.stop();
        await ownQueue?.close();
      },
    });
  }
  return {
    components,
    routes: [alertRoutes(book), silenceRoutes({ silences, onChange: onSilencesChanged, now }), ruleRoutes(rules), healthRoutes(() => round.latestHealth())],
    internals: { rules, book, silences, round, loop, runRound },
  };
}
