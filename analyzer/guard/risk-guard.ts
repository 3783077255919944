import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import type { GuardConfig } from "./config.ts";
import type { GuardAlerts } from "./guard-alerts.ts";
import type { GuardAudit, GuardAuditRecord } from "./guard-audit.ts";
import { checkBlastRadius, recordAct, type BlastState } from "./blast-radius.ts";
import type { GuardStateStore } from "./state-store.ts";
import { longestWindowMs, refill, resetBuckets, spendToken, tokenWindows, type BucketState, type TokenWindow } from "./token-windows.ts";

/** One destructive operation asking to go ahead. */
export interface GuardedOperation {
  /** "delete-pod", "cordon-node", "scale-workload", "abort-rollout", "webhook", "delete-service", ... */
  kind: string;
  /** Scopes it spends tokens in, narrowest first: ["namespace/default", "cluster"], ["pool/gpu", "cluster"]. */
  scopes: readonly string[];
  target: string;
  /** For the blast-radius rule: the service or node pool it acts on and how many members that has. */
  group?: { name: string; size: number };
  who: string;
  via: "action" | "admission";
  evidence: Record<string, unknown>;
}

export type RefusalRule = "tripped" | "tokens" | "blast-radius" | "brake" | "unavailable";
export type GuardDecision = { isAllowed: true } | { isAllowed: false; rule: RefusalRule; message: string };

export interface BucketView {
  key: string;
  tokens: Record<string, number>;
  tripped: { atMs: number; reason: string } | null;
}

export interface RiskGuardDeps {
  config: GuardConfig;
  store: GuardStateStore;
  audit: GuardAudit;
  alerts: GuardAlerts;
  registry: Registry;
  logger: Logger;
  now: () => number;
}

const BUCKET_PREFIX = "bucket:";
export const BRAKE_SCOPE = "sanity-brake";
const MAX_LISTED = 1_000;

export const bucketKey = (kind: string, scope: string): string => `${kind}@${scope}`;
export const brakeKey = (kind: string): string => bucketKey(kind, BRAKE_SCOPE);

/**
 * The KubeDefender rules in front of every destructive operation, in this order: a tripped bucket or an
 * engaged sanity brake refuses at once; the blast radius refuses acting on too large a share of one group;
 * then every window of every scope must give a token, and a dry one trips its bucket (refused, alerted,
 * kept refused until reset). Any state or audit failure refuses too: the guard fails closed.
 */
export class RiskGuard {
  private readonly decisions: Counter<"kind" | "decision">;

  constructor(private readonly deps: RiskGuardDeps) {
    this.decisions = new Counter({ name: "meshsight_guard_decisions_total", help: "Risk guard decisions by operation kind and decision (allowed, refused, tripped, brake, reset).", labelNames: ["kind", "decision"], registers: [deps.registry] });
  }

  windowsFor(kind: string): TokenWindow[] {
    return tokenWindows(this.deps.config.limits[kind] ?? this.deps.config.windows);
  }

  /** Spends tokens when allowed; every outcome is audited before it is returned. */
  async admit(operation: GuardedOperation): Promise<GuardDecision> {
    try {
      return await this.decide(operation, true);
    } catch (error) {
      return this.refuseUnavailable(operation, error);
    }
  }

  /** The same rules without spending (Kubernetes dry-run requests): nothing happens, so nothing is counted. */
  async wouldAdmit(operation: GuardedOperation): Promise<GuardDecision> {
    try {
      return await this.decide(operation, false);
    } catch (error) {
      return this.refuseUnavailable(operation, error);
    }
  }

  /** Audits an operation that skips the rules (an allow-listed caller); nothing is spent. */
  async pass(operation: GuardedOperation, reason: string): Promise<void> {
    await this.audited({ atMs: this.deps.now(), decision: "allowed", kind: operation.kind, keys: [], target: operation.target, who: operation.who, via: operation.via, reason, evidence: operation.evidence });
  }

  /**
   * The sanity brake: when more targets of one kind ask at the same moment than a healthy fleet can
   * plausibly have broken, the detector is the likelier fault (expired certificates, a broken probe).
   * Engages a trip on the kind's brake key, raises one alert, and refuses every operation of the kind until reset.
   */
  async checkBrake(kind: string, targets: readonly string[], fleetSize: number | null, who: string): Promise<GuardDecision> {
    const { config, now } = this.deps;
    const limit = Math.max(config.brakeMinTargets, fleetSize === null ? 0 : Math.floor(config.brakeMaxFleetShare * fleetSize));
    if (targets.length <= limit) return { isAllowed: true };
    const atMs = now();
    const key = brakeKey(kind);
    const reason = `${targets.length} ${kind} targets at once is above the sanity limit of ${limit}${fleetSize === null ? "" : ` (fleet of ${fleetSize})`}: the detector itself is suspect, nothing is done`;
    try {
      const isNew = await this.deps.store.update(BUCKET_PREFIX + key, (current) => {
        const state = current as BucketState | undefined;
        if (state?.tripped) return { next: state, result: false };
        return { next: { tokens: {}, atMs, tripped: { atMs, reason } } satisfies BucketState, result: true };
      });
      const evidence = { targets: targets.slice(0, 20), targetCount: targets.length, fleetSize, limit };
      await this.audited({ atMs, decision: "brake", kind, keys: [key], target: `${targets.length} targets`, who, via: "action", reason, evidence });
      if (isNew) await this.deps.alerts.raise(key, atMs, `meshsight risk guard: sanity brake engaged for ${kind}. ${reason}. Reset with POST /api/v1/guard/reset once the detector is checked.`);
    } catch (error) {
      this.deps.logger.error({ component: "risk-guard", kind, err: error }, "could not record the sanity brake; refusing anyway");
    }
    return { isAllowed: false, rule: "brake", message: reason };
  }

  /** Clears a trip or brake; buckets start full again. False when the key is not tripped. */
  async reset(key: string, who: string): Promise<boolean> {
    const nowMs = this.deps.now();
    const kind = key.split("@", 1)[0] ?? key;
    const windows = this.windowsFor(kind);
    const tripped = await this.deps.store.update(BUCKET_PREFIX + key, (current) => {
      const state = current as BucketState | undefined;
      if (!state?.tripped) return { next: current, result: undefined };
      return { next: resetBuckets(windows, nowMs), ttlMs: longestWindowMs(windows), result: state.tripped };
    });
    if (!tripped) return false;
    await this.audited({ atMs: nowMs, decision: "reset", kind, keys: [key], target: key, who, via: "api", reason: "reset by an operator", evidence: { trippedAtMs: tripped.atMs, trippedBecause: tripped.reason } });
    await this.deps.alerts.clear(key, tripped.atMs, nowMs, `meshsight risk guard: ${key} was reset by ${who}`);
    return true;
  }

  /** Every bucket the store holds (up to a bound), tripped ones first. */
  async buckets(): Promise<BucketView[]> {
    const nowMs = this.deps.now();
    const entries = await this.deps.store.list(BUCKET_PREFIX, MAX_LISTED);
    const views = entries.map(({ key, value }) => {
      const bucketName = key.slice(BUCKET_PREFIX.length);
      const state = value as BucketState;
      const current = refill(state, this.windowsFor(bucketName.split("@", 1)[0] ?? ""), nowMs);
      return { key: bucketName, tokens: roundTokens(current.tokens), tripped: state.tripped ?? null };
    });
    return views.sort((a, b) => Number(b.tripped !== null) - Number(a.tripped !== null) || a.key.localeCompare(b.key));
  }

  private async decide(operation: GuardedOperation, isSpending: boolean): Promise<GuardDecision> {
    const nowMs = this.deps.now();
    const keys = operation.scopes.map((scope) => bucketKey(operation.kind, scope));
    for (const key of [brakeKey(operation.kind), ...keys]) {
      const state = (await this.deps.store.get(BUCKET_PREFIX + key)) as BucketState | undefined;
      if (state?.tripped) return this.refuse(operation, keys, "tripped", `${key} is tripped since ${new Date(state.tripped.atMs).toISOString()} (${state.tripped.reason}); an operator must reset it`, nowMs);
    }
    if (operation.group) {
      const blast = (await this.deps.store.get(blastKey(operation.group.name))) as BlastState | undefined;
      const verdict = checkBlastRadius(blast, operation.target, operation.group.size, this.deps.config.blastMaxShare, this.deps.config.blastSettleMs, nowMs);
      if (!verdict.isAllowed) return this.refuse(operation, keys, "blast-radius", `${operation.group.name}: ${verdict.reason}`, nowMs);
    }
    const windows = this.windowsFor(operation.kind);
    for (const key of keys) {
      const dry = isSpending ? await this.spendOrTrip(key, windows, nowMs) : await this.peekDry(key, windows, nowMs);
      if (dry) {
        const reason = `${key} has no token left in its ${dry.window.name} window (${dry.window.tokens} per ${dry.window.name})`;
        if (isSpending && dry.isNewTrip) return this.trip(operation, key, keys, reason, nowMs);
        return this.refuse(operation, keys, isSpending ? "tripped" : "tokens", reason, nowMs);
      }
    }
    if (isSpending && operation.group) {
      const { name } = operation.group;
      const settleMs = this.deps.config.blastSettleMs;
      await this.deps.store.update(blastKey(name), (current) => ({ next: recordAct(current as BlastState | undefined, operation.target, settleMs, nowMs), ttlMs: Math.max(1, settleMs), result: undefined }));
    }
    await this.audited({ atMs: nowMs, decision: "allowed", kind: operation.kind, keys, target: operation.target, who: operation.who, via: operation.via, reason: isSpending ? "tokens spent" : "would be allowed (dry run, nothing spent)", evidence: operation.evidence });
    return { isAllowed: true };
  }

  /** Spends one token from every window of `key`; on a dry window trips the bucket (once). */
  private async spendOrTrip(key: string, windows: readonly TokenWindow[], nowMs: number): Promise<{ window: TokenWindow; isNewTrip: boolean } | undefined> {
    const ttlMs = longestWindowMs(windows);
    return this.deps.store.update<{ window: TokenWindow; isNewTrip: boolean } | undefined>(BUCKET_PREFIX + key, (current) => {
      const state = current as BucketState | undefined;
      if (state?.tripped) return { next: state, result: { window: windows[0] ?? { name: "?", durationMs: 0, tokens: 0 }, isNewTrip: false } };
      const outcome = spendToken(state, windows, nowMs);
      if (outcome.isSpent) return { next: outcome.state, ttlMs, result: undefined };
      // A tripped bucket has no expiry: it waits for an operator, across restarts.
      const tripped: BucketState = { ...outcome.state, tripped: { atMs: nowMs, reason: `no token left in the ${outcome.dryWindow.name} window` } };
      return { next: tripped, result: { window: outcome.dryWindow, isNewTrip: true } };
    });
  }

  private async peekDry(key: string, windows: readonly TokenWindow[], nowMs: number): Promise<{ window: TokenWindow; isNewTrip: boolean } | undefined> {
    const outcome = spendToken((await this.deps.store.get(BUCKET_PREFIX + key)) as BucketState | undefined, windows, nowMs);
    return outcome.isSpent ? undefined : { window: outcome.dryWindow, isNewTrip: false };
  }

  private async trip(operation: GuardedOperation, key: string, keys: readonly string[], reason: string, nowMs: number): Promise<GuardDecision> {
    await this.audited({ atMs: nowMs, decision: "tripped", kind: operation.kind, keys: [key], target: operation.target, who: operation.who, via: operation.via, reason, evidence: operation.evidence });
    await this.deps.alerts.raise(key, nowMs, `meshsight risk guard tripped: ${reason}. ${operation.kind} on ${operation.target} by ${operation.who} was refused, and further ${operation.kind} operations in this scope stay refused until POST /api/v1/guard/reset.`);
    this.deps.logger.warn({ component: "risk-guard", key, target: operation.target, who: operation.who }, "risk guard tripped");
    return { isAllowed: false, rule: "tokens", message: `${reason}; the guard tripped and refuses further ${operation.kind} in this scope until reset` };
  }

  private async refuse(operation: GuardedOperation, keys: readonly string[], rule: RefusalRule, reason: string, nowMs: number): Promise<GuardDecision> {
    await this.audited({ atMs: nowMs, decision: "refused", kind: operation.kind, keys, target: operation.target, who: operation.who, via: operation.via, reason, evidence: { rule, ...operation.evidence } });
    return { isAllowed: false, rule, message: reason };
  }

  private refuseUnavailable(operation: GuardedOperation, error: unknown): GuardDecision {
    const detail = error instanceof Error ? error.message : String(error);
    this.decisions.inc({ kind: operation.kind, decision: "refused" });
    this.deps.logger.error({ component: "risk-guard", kind: operation.kind, target: operation.target, err: error }, "risk guard state or audit unavailable; refusing");
    return { isAllowed: false, rule: "unavailable", message: `the risk guard cannot decide (${detail}); refusing until it can` };
  }

  private async audited(record: GuardAuditRecord): Promise<void> {
    await this.deps.audit.record(record);
    this.decisions.inc({ kind: record.kind, decision: record.decision });
  }
}

function blastKey(group: string): string {
  return `blast:${group}`;
}

function roundTokens(tokens: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(tokens).map(([name, left]) => [name, Math.floor(left * 100) / 100]));
}
