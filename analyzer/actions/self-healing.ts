import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../../core/lifecycle.ts";
import type { OpenState } from "../../core/state/port.ts";
import { openFileState } from "../../core/state/state-stores.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { AlertDispatcher, StandingAlertRegistry } from "../alerts/notification.ts";
import { AdmissionServer } from "../guard/admission-server.ts";
import { GuardAlerts } from "../guard/guard-alerts.ts";
import { GuardAudit } from "../guard/guard-audit.ts";
import { guardRoutes } from "../guard/guard-routes.ts";
import { RiskGuard } from "../guard/risk-guard.ts";
import { legacyGuardFile, StateGuardStore, type GuardStateStore } from "../guard/state-store.ts";
import { ActionBook } from "./action-book.ts";
import { actionRoutes } from "./action-routes.ts";
import { ActionRunner } from "./action-runner.ts";
import type { ActionsConfig } from "./config.ts";
import { createKubeOperations, type KubeOperations } from "./kube-operations.ts";


export interface SelfHealingDeps {
  config: ActionsConfig;
  /** storage.dataDir: default home of the guard's state file and audit. */
  dataDir: string;
  logger: Logger;
  registry: Registry;
  rejects: RejectCounter;
  /** The alert outputs (analyzer/outputs): where the guard's own alerts go. */
  outputs: AlertDispatcher;
  /** Loaded by core/kubernetes/kube-config.ts; null: Kubernetes actions fail with a clear reason. */
  kubeConfig: KubeConfig | null;
  /** The outputs' lease renewals: tripped buckets' alerts are re-sent there for as long as the trip stands. */
  renewals?: StandingAlertRegistry;
  /** Where guard state lives (core/state): Redis shared by every replica, or a file; default a file under dataDir. */
  openState?: OpenState;
  now?: () => number;
}

export interface SelfHealing {
  /** Give it every notification the analyzer sends (next to the outputs). */
  dispatcher: AlertDispatcher;
  /** In start order: guard state, audit, (admission webhook), actions. */
  components: Component[];
  routes: FastifyPluginAsync[];
  internals: { runner: ActionRunner; guard: RiskGuard; book: ActionBook; audit: GuardAudit; store: GuardStateStore; admission: AdmissionServer | null };
}

/**
 * The self-healing subsystem (docs/self-healing.md): remediation actions bound to alerts and the risk guard in
 * front of them and of the Kubernetes API. analyzer/analyzer.ts adds it in processes that run analysis rounds.
 */
export function createSelfHealing(deps: SelfHealingDeps): SelfHealing {
  const { config, logger } = deps;
  const guardConfig = config.guard;
  const now = deps.now ?? Date.now;
  const openState = deps.openState ?? openFileState(now);
  const store: GuardStateStore = new StateGuardStore(
    openState("guard", { file: guardConfig.stateFile ?? join(deps.dataDir, "guard-state.json"), limits: { maxKeys: guardConfig.maxKeys }, legacy: legacyGuardFile }),
  );
  const audit = new GuardAudit({ file: guardConfig.auditFile ?? join(deps.dataDir, "guard-audit.jsonl"), maxBytes: guardConfig.auditMaxBytes, recentLimit: 1_000 });
  const guardAlerts = new GuardAlerts(deps.outputs, guardConfig.alertOutputs, logger);
  const guard = new RiskGuard({ config: guardConfig, store, audit, alerts: guardAlerts, registry: deps.registry, logger, now });
  deps.renewals?.add(async () => guardAlerts.standing(await guard.buckets()));
  const kube: KubeOperations | null = deps.kubeConfig ? createKubeOperations(deps.kubeConfig, { serviceLabel: config.serviceLabel, nodePoolLabel: guardConfig.nodePoolLabel }) : null;
  const book = new ActionBook(config.maxRecords);
  const runner = new ActionRunner({ config, guard, kube, book, registry: deps.registry, logger, now });
  const { admission } = guardConfig;
  const admissionServer =
    admission.isEnabled && admission.certFile !== undefined && admission.keyFile !== undefined
      ? new AdmissionServer({
          host: admission.host,
          port: admission.port,
          certFile: admission.certFile,
          keyFile: admission.keyFile,
          allow: { users: admission.allowUsers, serviceAccounts: admission.allowServiceAccounts, groups: admission.allowGroups },
          nodePoolLabel: guardConfig.nodePoolLabel,
          guard,
          rejects: deps.rejects,
          logger,
        })
      : null;
  if (config.actions.length > 0 && !deps.kubeConfig) logger.warn({ component: "actions" }, "actions are configured but there is no Kubernetes access: Kubernetes actions will fail (dry-run still records)");

  const components: Component[] = [
    { name: "guard.state", start: () => store.start(), stop: () => store.stop() },
    { name: "guard.audit", start: () => audit.start(), stop: () => audit.stop() },
    ...(admissionServer ? [admissionServer] : []),
    { name: "actions", start: async () => undefined, stop: () => runner.stop() },
  ];
  return { dispatcher: runner, components, routes: [actionRoutes(runner, book, now), guardRoutes(guard, audit)], internals: { runner, guard, book, audit, store, admission: admissionServer } };
}
