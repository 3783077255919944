import { Registry } from "prom-client";
import { actionsSection } from "../../../../analyzer/actions/config.ts";
import { createSelfHealing, type SelfHealing } from "../../../../analyzer/actions/self-healing.ts";
import type { Alert } from "../../../../core/model/alert.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";
import { kubeConfigFor } from "../../../collector/mesh/k8s/kube-config-for.ts";
import { CollectedNotifications, silentLogger, type ManualClock } from "../../guard/support.ts";

/** A started self-healing module over a temp data dir and a stand-in API server at `kubeUrl`. */
export async function startSelfHealing(options: { dataDir: string; kubeUrl: string; config: Record<string, unknown>; clock?: ManualClock }): Promise<{ healing: SelfHealing; outputs: CollectedNotifications; stop: () => Promise<void> }> {
  const registry = new Registry();
  const outputs = new CollectedNotifications();
  const healing = createSelfHealing({
    config: actionsSection.schema.parse({ batchWindowMs: 60_000, ...options.config }),
    dataDir: options.dataDir,
    logger: silentLogger,
    registry,
    rejects: new RejectCounter(registry, silentLogger),
    outputs,
    kubeConfig: kubeConfigFor(options.kubeUrl),
    ...(options.clock ? { now: options.clock.now } : {}),
  });
  for (const component of healing.components) await component.start();
  return {
    healing,
    outputs,
    stop: async () => {
      for (const component of [...healing.components].reverse()) await component.stop();
    },
  };
}

/** A firing alert as the analyzer sends it once root-cause analysis named a reviews pod. */
export function reviewsPodAlert(id = "alert-1"): Alert {
  return {
    id,
    rule: "service_sla_low",
    scope: "service",
    entity: "productpage.default",
    state: "firing",
    message: "Success rate of service productpage.default is 66.7% (below 95%) in 2 of the last 5 minutes",
    labels: { severity: "critical" },
    startsAtMs: Date.UTC(2025, 0, 6, 9, 0),
    endsAtMs: 0,
    rootCause: {
      service: "reviews.default",
      instance: "reviews-v2-7b8f6d9c5-qz2lp.default",
      score: 0.92,
      reason: "reviews-v2-7b8f6d9c5-qz2lp.default concentrates the errors of reviews.default",
      evidence: [{ kind: "metric", summary: "error rate 0 -> 1", ref: "instance:reviews-v2-7b8f6d9c5-qz2lp.default" }],
    },
  };
}
