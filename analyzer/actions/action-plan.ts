import type { Alert } from "../../core/model/alert.ts";
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { ActionBinding } from "./config.ts";

/** What an action does, resolved from the alert: enough to describe it, guard it and run it. */
export type ActionTarget =
  | { kind: "delete-pod"; namespace: string; pod: string; service: string }
  | { kind: "cordon-node"; node: string; service: string }
  | { kind: "scale-workload"; namespace: string; workloadKind: "deployment" | "statefulset"; name: string; delta: number; maxReplicas: number; service: string }
  | { kind: "abort-rollout"; namespace: string; name: string; provider: "argo" | "webhook"; url?: string; service: string }
  | { kind: "webhook"; url: string; service: string };

export type PlanOutcome = { isPlanned: true; target: ActionTarget } | { isPlanned: false; reason: string };

/** "reviews-v2-abc.default" -> pod and namespace; namespaces hold no dots, pod names may. */
export function splitQualifiedName(name: string): { name: string; namespace: string } | undefined {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return { name: name.slice(0, dot), namespace: name.slice(dot + 1) };
}

/** Does this binding want this alert at all? Non-matching bindings leave no record. */
export function bindingMatches(binding: ActionBinding, alert: Alert): boolean {
  if (binding.rules.length > 0 && !binding.rules.includes(alert.rule)) return false;
  const cause = alert.rootCause;
  if (binding.rootCause === "instance" && !cause?.instance) return false;
  if (binding.rootCause === "service" && !cause?.service) return false;
  if (cause && cause.score < binding.minScore) return false;
  const service = serviceOf(alert);
  return binding.services.length === 0 || binding.services.includes(service);
}

/** The service the action is about: the root cause's when there is one, else the alert's own entity. */
export function serviceOf(alert: Alert): string {
  if (alert.rootCause?.service) return alert.rootCause.service;
  if (alert.scope === "service") return alert.entity;
  return alert.labels.service ?? "";
}

/** Resolves the binding's target from the alert; a matching binding whose target cannot be named says why. */
export function planAction(binding: ActionBinding, alert: Alert): PlanOutcome {
  const service = serviceOf(alert);
  // Whatever stands behind a name meshsight could not resolve is not a thing to restart or scale.
  if (service === UNKNOWN_SERVICE || alert.rootCause?.instance === UNKNOWN_SERVICE) return { isPlanned: false, reason: `meshsight could not identify the service (${UNKNOWN_SERVICE}); no action targets it` };
  const serviceParts = splitQualifiedName(service);
  const workloadName = (): string => binding.workload.replaceAll("{service}", serviceParts?.name ?? "");
  switch (binding.kind) {
    case "delete-pod": {
      const instance = alert.rootCause?.instance || (alert.scope === "instance" ? alert.entity : "");
      const pod = splitQualifiedName(instance);
      if (!pod) return { isPlanned: false, reason: "neither the root cause nor the alert names a pod instance (pod.namespace)" };
      return { isPlanned: true, target: { kind: "delete-pod", namespace: pod.namespace, pod: pod.name, service } };
    }
    case "cordon-node": {
      const node = alert.labels.node;
      if (!node) return { isPlanned: false, reason: "the alert has no node label" };
      return { isPlanned: true, target: { kind: "cordon-node", node, service } };
    }
    case "scale-workload":
      if (!serviceParts) return { isPlanned: false, reason: `no service name.namespace to scale (got ${JSON.stringify(service)})` };
      return { isPlanned: true, target: { kind: "scale-workload", namespace: serviceParts.namespace, workloadKind: binding.workloadKind, name: workloadName(), delta: binding.replicasDelta, maxReplicas: binding.maxReplicas, service } };
    case "abort-rollout":
      if (!serviceParts) return { isPlanned: false, reason: `no service name.namespace whose rollout to abort (got ${JSON.stringify(service)})` };
      return { isPlanned: true, target: { kind: "abort-rollout", namespace: serviceParts.namespace, name: workloadName(), provider: binding.provider, ...(binding.url ? { url: binding.url } : {}), service } };
    case "webhook":
      return { isPlanned: true, target: { kind: "webhook", url: binding.url ?? "", service } };
  }
}

/** One line saying what the action does (or would do, in dry-run). */
export function describeTarget(target: ActionTarget): string {
  switch (target.kind) {
    case "delete-pod":
      return `delete pod ${target.pod} in namespace ${target.namespace}`;
    case "cordon-node":
      return `cordon node ${target.node}`;
    case "scale-workload":
      return `scale ${target.workloadKind} ${target.namespace}/${target.name} by ${target.delta >= 0 ? "+" : ""}${target.delta} (at most ${target.maxReplicas} replicas)`;
    case "abort-rollout":
      return target.provider === "argo" ? `abort Argo Rollout ${target.namespace}/${target.name}` : `abort rollout ${target.namespace}/${target.name} through ${new URL(target.url ?? "http://invalid").host}`;
    case "webhook":
      return `call webhook ${new URL(target.url).host}`;
  }
}

/** The single name the guard and the sanity brake count per target. */
export function targetKey(target: ActionTarget): string {
  switch (target.kind) {
    case "delete-pod":
      return `${target.namespace}/${target.pod}`;
    case "cordon-node":
      return target.node;
    case "webhook":
      return `${target.url} ${target.service}`;
    default:
      return `${target.namespace}/${target.name}`;
  }
}
