import type { KubeConfig } from "@kubernetes/client-node";
import type { ActionTarget } from "./action-plan.ts";

/** The Kubernetes calls the actions make, and the counts the guard needs, through @kubernetes/client-node. */
export interface KubeOperations {
  deletePod(namespace: string, pod: string): Promise<void>;
  cordonNode(node: string): Promise<void>;
  /** Returns the replicas before and after. */
  scaleWorkload(target: Extract<ActionTarget, { kind: "scale-workload" }>): Promise<{ from: number; to: number }>;
  abortArgoRollout(namespace: string, name: string): Promise<void>;
  /** Pods of a service: those in its namespace whose `serviceLabel` is the service's short name. */
  countServicePods(namespace: string, serviceName: string): Promise<number>;
  nodePool(node: string): Promise<string>;
  countPoolNodes(pool: string): Promise<number>;
  countNodes(): Promise<number>;
}

/** Large clusters have thousands of nodes; a page this size keeps one list reply small. */
const PAGE = 500;

export function createKubeOperations(config: KubeConfig, options: { serviceLabel: string; nodePoolLabel: string }): KubeOperations {
  // Imported here, not at the top: a process without cluster access (no KubeConfig) never loads the library.
  const clients = import("@kubernetes/client-node").then((k8s) => ({
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    mergePatch: k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  }));

  const countPages = async (list: (next: string | undefined) => Promise<{ items: unknown[]; metadata?: { _continue?: string } }>): Promise<number> => {
    let count = 0;
    let next: string | undefined;
    do {
      const page = await list(next);
      count += page.items.length;
      next = page.metadata?._continue || undefined;
    } while (next !== undefined);
    return count;
  };

  return {
    async deletePod(namespace, pod) {
      const { core } = await clients;
      await core.deleteNamespacedPod({ name: pod, namespace });
    },
    async cordonNode(node) {
      // What `kubectl cordon` does: mark the node unschedulable; running pods stay (no eviction).
      const { core, mergePatch } = await clients;
      await core.patchNode({ name: node, body: { spec: { unschedulable: true } } }, mergePatch);
    },
    async scaleWorkload(target) {
      const { apps, mergePatch } = await clients;
      const request = { name: target.name, namespace: target.namespace };
      const current = target.workloadKind === "deployment" ? await apps.readNamespacedDeploymentScale(request) : await apps.readNamespacedStatefulSetScale(request);
      const from = current.spec?.replicas ?? 0;
      const to = Math.max(0, Math.min(target.maxReplicas, from + target.delta));
      const body = { spec: { replicas: to } };
      if (target.workloadKind === "deployment") await apps.patchNamespacedDeploymentScale({ ...request, body }, mergePatch);
      else await apps.patchNamespacedStatefulSetScale({ ...request, body }, mergePatch);
      return { from, to };
    },
    async abortArgoRollout(namespace, name) {
      // What `kubectl argo rollouts abort` does: set status.abort on the Rollout's status subresource.
      const { custom, mergePatch } = await clients;
      await custom.patchNamespacedCustomObjectStatus({ group: "argoproj.io", version: "v1alpha1", namespace, plural: "rollouts", name, body: { status: { abort: true } } }, mergePatch);
    },
    countServicePods: async (namespace, serviceName) => {
      const { core } = await clients;
      return countPages((next) => core.listNamespacedPod({ namespace, labelSelector: `${options.serviceLabel}=${serviceName}`, limit: PAGE, _continue: next }));
    },
    async nodePool(node) {
      const { core } = await clients;
      const found = await core.readNode({ name: node });
      return found.metadata?.labels?.[options.nodePoolLabel] ?? "default";
    },
    countPoolNodes: async (pool) => {
      const { core } = await clients;
      return countPages((next) => core.listNode(pool === "default" ? { labelSelector: `!${options.nodePoolLabel}`, limit: PAGE, _continue: next } : { labelSelector: `${options.nodePoolLabel}=${pool}`, limit: PAGE, _continue: next }));
    },
    countNodes: async () => {
      const { core } = await clients;
      return countPages((next) => core.listNode({ limit: PAGE, _continue: next }));
    },
  };
}
