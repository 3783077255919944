import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { AlertDispatcher, AlertNotification } from "../../../analyzer/alerts/notification.ts";
import { guardSchema, type GuardConfig } from "../../../analyzer/guard/config.ts";
import { GuardAlerts } from "../../../analyzer/guard/guard-alerts.ts";
import { GuardAudit } from "../../../analyzer/guard/guard-audit.ts";
import { RiskGuard } from "../../../analyzer/guard/risk-guard.ts";
import { StateGuardStore, type GuardStateStore } from "../../../analyzer/guard/state-store.ts";
import { createStateStores } from "../../../core/state/state-stores.ts";

export const silentLogger = pino({ level: "silent" });

/** The alert outputs as the guard sees them: notifications land here, as they would in the outputs queue. */
export class CollectedNotifications implements AlertDispatcher {
  readonly received: AlertNotification[] = [];
  async dispatch(notification: AlertNotification): Promise<void> {
    this.received.push(structuredClone(notification));
  }
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public nowMs = Date.UTC(2025, 0, 6, 9, 0)) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), "meshsight-guard-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface GuardHarness {
  guard: RiskGuard;
  store: GuardStateStore;
  audit: GuardAudit;
  notifications: CollectedNotifications;
  config: GuardConfig;
  stop(): Promise<void>;
}

/** A started guard over a file store in `dir`, or over Redis when `redis` is given (as after a restart when called again). */
export async function startGuard(options: { dir: string; clock: ManualClock; config?: Record<string, unknown>; redis?: { url: string; prefix: string } }): Promise<GuardHarness> {
  const config = guardSchema.parse(options.config ?? {});
  const stores = createStateStores({ ...(options.redis ? { redisUrl: options.redis.url } : {}), keyPrefix: options.redis?.prefix ?? "test", now: options.clock.now });
  await stores.component.start();
  const store: GuardStateStore = new StateGuardStore(stores.open("guard", { file: join(options.dir, "guard-state.json"), limits: { maxKeys: config.maxKeys } }));
  const audit = new GuardAudit({ file: join(options.dir, "guard-audit.jsonl"), maxBytes: config.auditMaxBytes, recentLimit: 1_000 });
  await store.start();
  await audit.start();
  const notifications = new CollectedNotifications();
  const guard = new RiskGuard({ config, store, audit, alerts: new GuardAlerts(notifications, [], silentLogger), registry: new Registry(), logger: silentLogger, now: options.clock.now });
  return {
    guard,
    store,
    audit,
    notifications,
    config,
    stop: async () => {
      await audit.stop();
      await store.stop();
      await stores.component.stop();
    },
  };
}

export const podDelete = (target: string, namespace = "default") => ({
  kind: "delete-pod",
  scopes: [`namespace/${namespace}`, "cluster"],
  target,
  who: "test",
  via: "action" as const,
  evidence: { why: "test" },
});
