import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import type { AlertDispatcher, AlertNotification } from "../alerts/notification.ts";
import type { GuardedOperation, RiskGuard } from "../guard/risk-guard.ts";
import { RecentMap } from "../../core/collections/recent-map.ts";
import type { ActionBook, ActionRecord } from "./action-book.ts";
import { bindingMatches, describeTarget, planAction, splitQualifiedName, targetKey, type ActionTarget } from "./action-plan.ts";
import { callWebhook } from "./webhook-call.ts";
import type { ActionBinding, ActionsConfig } from "./config.ts";
import type { KubeOperations } from "./kube-operations.ts";

export class ActionNotApprovableError extends Error {
  override readonly name = "ActionNotApprovableError";
}

export interface ActionRunnerDeps {
  config: ActionsConfig;
  guard: RiskGuard;
  /** Null without Kubernetes access: Kubernetes actions then fail with a clear reason (dry-run still records). */
  kube: KubeOperations | null;
  book: ActionBook;
  registry: Registry;
  logger: Logger;
  now: () => number;
}

interface QueuedAction {
  record: ActionRecord;
  target: ActionTarget;
}

/** Alerts remembered per action so a re-sent "firing" never acts twice on one alert. */
const MAX_REMEMBERED_ALERTS = 10_000;

/**
 * The analyzer's notifications in, remediation out. Firing alerts are matched against the configured
 * bindings and queued; a batch (everything asked within `batchWindowMs`, so one analysis round is judged as
 * a whole) first faces the sanity brake, then each action runs by its mode: dry-run records what it would
 * do, approval waits for an operator, auto asks the risk guard and acts.
 */
export class ActionRunner implements AlertDispatcher {
  private queued: QueuedAction[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly actedOn = new RecentMap<true>(MAX_REMEMBERED_ALERTS);
  /** The first action per incident, kind and target: one fault paged as several alerts is acted on once. */
  private readonly byIncident = new RecentMap<string>(MAX_REMEMBERED_ALERTS);
  private readonly outcomes: Counter<"kind" | "status">;

  constructor(private readonly deps: ActionRunnerDeps) {
    this.outcomes = new Counter({ name: "meshsight_actions_total", help: "Remediation actions by kind and outcome (dry-run, awaiting-approval, done, failed, refused, skipped, dropped, expired, deduplicated).", labelNames: ["kind", "status"], registers: [deps.registry] });
  }

  async dispatch(notification: AlertNotification): Promise<void> {
    if (notification.change !== "firing") return;
    const { alert } = notification;
    for (const binding of this.deps.config.actions) {
      if (!bindingMatches(binding, alert)) continue;
      const memoryKey = `${binding.name}\u0000${alert.id}`;
      if (this.actedOn.get(memoryKey)) continue;
      this.actedOn.set(memoryKey, true);
      const plan = planAction(binding, alert);
      const record = this.newRecord(binding, notification, plan.isPlanned ? plan.target : null);
      const incidentKey = plan.isPlanned && alert.incidentId !== undefined ? `${alert.incidentId}\u0000${binding.kind}\u0000${targetKey(plan.target)}` : undefined;
      const first = incidentKey === undefined ? undefined : this.byIncident.get(incidentKey);
      if (!plan.isPlanned) this.finish(record, "skipped", plan.reason);
      else if (first !== undefined) this.finish(record, "deduplicated", `incident ${alert.incidentId ?? ""} already has this action on ${targetKey(plan.target)} (action ${first})`);
      else if (this.queued.length >= this.deps.config.maxPending) this.finish(record, "dropped", `${this.deps.config.maxPending} actions already wait for their batch`);
      else {
        if (incidentKey !== undefined) this.byIncident.set(incidentKey, record.id);
        this.queued.push({ record, target: plan.target });
      }
    }
    if (this.queued.length > 0) this.schedule();
  }

  /** Runs everything queued now (the timer does it after the batch window); resolves when done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queued.splice(0);
    const run = this.flushing.then(() => this.runBatch(batch));
    this.flushing = run.catch((error: unknown) => this.deps.logger.error({ component: "actions", err: error }, "an action batch failed"));
    return this.flushing;
  }

  async stop(): Promise<void> {
    await this.flush();
  }

  /** An operator's go for an action in approval mode; it still has to pass the risk guard. */
  async approve(id: string, who: string): Promise<ActionRecord | undefined> {
    const { book, now } = this.deps;
    const record = book.get(id);
    if (!record) return undefined;
    book.expireIfDue(record, now());
    if (record.status !== "awaiting-approval" || !record.target) throw new ActionNotApprovableError(`action ${id} is ${record.status}, not awaiting approval${record.status === "expired" ? ` (${record.detail})` : ""}`);
    book.update(record, { status: "running", approvedBy: who }, now());
    await this.execute(record, record.target);
    return record;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.deps.config.batchWindowMs);
    this.timer.unref();
  }

  private async runBatch(batch: readonly QueuedAction[]): Promise<void> {
    const braked = await this.applyBrake(batch.filter((item) => item.record.mode !== "dry-run"));
    const { config, now } = this.deps;
    for (const item of batch) {
      if (braked.has(item)) continue;
      const { record, target } = item;
      if (record.mode === "dry-run") this.finish(record, "dry-run", `dry-run: would ${record.description}; nothing was done`);
      else if (record.mode === "approval") {
        this.deps.book.update(record, { expiresAtMs: now() + config.approvalTtlMs }, now());
        this.finish(record, "awaiting-approval", `POST /api/v1/actions/${record.id}/approve before ${new Date(now() + config.approvalTtlMs).toISOString()} to ${record.description}`);
      } else await this.execute(record, target);
    }
  }

  /** Per kind: too many distinct targets at once engages the brake; the whole kind's batch is refused. */
  private async applyBrake(batch: readonly QueuedAction[]): Promise<Set<QueuedAction>> {
    const braked = new Set<QueuedAction>();
    const byKind = new Map<string, QueuedAction[]>();
    for (const item of batch) byKind.set(item.target.kind, [...(byKind.get(item.target.kind) ?? []), item]);
    for (const [kind, items] of byKind) {
      const targets = [...new Set(items.map((item) => targetKey(item.target)))];
      const fleetSize = kind === "cordon-node" ? await this.deps.kube?.countNodes().catch(() => null) ?? null : null;
      const decision = await this.deps.guard.checkBrake(kind, targets, fleetSize, items.map((item) => item.record.action).filter((name, index, names) => names.indexOf(name) === index).join(","));
      if (decision.isAllowed) continue;
      for (const item of items) {
        braked.add(item);
        this.finish(item.record, "refused", `sanity brake: ${decision.message}`);
      }
    }
    return braked;
  }

  private async execute(record: ActionRecord, target: ActionTarget): Promise<void> {
    const { logger } = this.deps;
    try {
      const decision = await this.deps.guard.admit(await this.operationFor(record, target));
      if (!decision.isAllowed) return this.finish(record, "refused", `risk guard (${decision.rule}): ${decision.message}`);
      this.deps.book.update(record, { status: "running" }, this.deps.now());
      const result = await this.perform(record, target);
      this.finish(record, "done", result);
      logger.info({ component: "actions", action: record.action, id: record.id, target: targetKey(target) }, `action done: ${record.description}`);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.finish(record, "failed", detail);
      logger.warn({ component: "actions", action: record.action, id: record.id, err: error }, `action failed: ${record.description}`);
    }
  }

  private async operationFor(record: ActionRecord, target: ActionTarget): Promise<GuardedOperation> {
    const base = { kind: target.kind, target: targetKey(target), who: `action:${record.action}`, via: "action" as const, evidence: { actionId: record.id, alertId: record.alertId, rule: record.rule, description: record.description } };
    const kube = this.deps.kube;
    switch (target.kind) {
      case "delete-pod": {
        const service = splitQualifiedName(target.service);
        const size = kube && service ? await kube.countServicePods(target.namespace, service.name) : 0;
        return { ...base, scopes: [`namespace/${target.namespace}`, "cluster"], ...(size > 0 ? { group: { name: `service/${target.service}`, size } } : {}) };
      }
      case "cordon-node": {
        if (!kube) return { ...base, scopes: ["cluster"] };
        const pool = await kube.nodePool(target.node);
        return { ...base, scopes: [`pool/${pool}`, "cluster"], group: { name: `pool/${pool}`, size: await kube.countPoolNodes(pool) } };
      }
      case "webhook":
        return { ...base, scopes: ["cluster"] };
      default:
        return { ...base, scopes: [`namespace/${target.namespace}`, "cluster"] };
    }
  }

  private async perform(record: ActionRecord, target: ActionTarget): Promise<string> {
    const payload = { action: record.action, id: record.id, alertId: record.alertId, rule: record.rule, service: record.service, description: record.description };
    if (target.kind === "webhook") return callWebhook(target.url, payload, this.bindingOf(record)?.timeoutMs ?? 10_000);
    if (target.kind === "abort-rollout" && target.provider === "webhook") return callWebhook(target.url ?? "", { ...payload, namespace: target.namespace, name: target.name }, this.bindingOf(record)?.timeoutMs ?? 10_000);
    const kube = this.deps.kube;
    if (!kube) throw new Error("no Kubernetes access (no kubeconfig or in-cluster service account)");
    switch (target.kind) {
      case "delete-pod":
        await kube.deletePod(target.namespace, target.pod);
        return `deleted pod ${target.namespace}/${target.pod}`;
      case "cordon-node":
        await kube.cordonNode(target.node);
        return `cordoned node ${target.node}`;
      case "scale-workload": {
        const { from, to } = await kube.scaleWorkload(target);
        return `scaled ${target.workloadKind} ${target.namespace}/${target.name} from ${from} to ${to} replicas`;
      }
      case "abort-rollout":
        await kube.abortArgoRollout(target.namespace, target.name);
        return `aborted Argo Rollout ${target.namespace}/${target.name}`;
    }
  }

  private bindingOf(record: ActionRecord): ActionBinding | undefined {
    return this.deps.config.actions.find((binding) => binding.name === record.action);
  }

  private newRecord(binding: ActionBinding, { alert }: AlertNotification, target: ActionTarget | null): ActionRecord {
    const nowMs = this.deps.now();
    const record: ActionRecord = {
      id: randomUUID(),
      action: binding.name,
      kind: binding.kind,
      mode: binding.mode,
      status: "running",
      alertId: alert.id,
      rule: alert.rule,
      service: target?.service ?? "",
      target,
      description: target ? describeTarget(target) : binding.kind,
      detail: "",
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    this.deps.book.add(record);
    return record;
  }

  private finish(record: ActionRecord, status: ActionRecord["status"], detail: string): void {
    this.deps.book.update(record, { status, detail }, this.deps.now());
    this.outcomes.inc({ kind: record.kind, status });
  }
}
