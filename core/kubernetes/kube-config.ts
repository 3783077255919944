import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";

/**
 * The standard Kubernetes client configuration, found the way kubectl and every client library find it:
 * `KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account (`loadFromDefault()` reads
 * those itself). Null when none exists: `loadFromDefault()` would then silently point at
 * `http://localhost:8080`, which is never what an operator meant, so that fallback is recognized and
 * refused here. The client library (~0.6 CPU-s to load) is loaded only when one of those sources exists.
 */
export async function loadDefaultKubeConfig(env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig | null> {
  if (!hasConfigSource(env)) return null;
  const { KubeConfig } = await import("@kubernetes/client-node");
  const config = new KubeConfig();
  config.loadFromDefault();
  const cluster = config.getCurrentCluster();
  if (!cluster) return null;
  const isLibraryFallback = cluster.name === "cluster" && cluster.server === "http://localhost:8080" && config.getCurrentUser()?.name === "user";
  return isLibraryFallback ? null : config;
}

/** Whether any of the places `loadFromDefault()` reads exists (the in-cluster one is announced by the kubelet's variable). */
function hasConfigSource(env: NodeJS.ProcessEnv): boolean {
  return (env.KUBECONFIG ?? "") !== "" || existsSync(join(homedir(), ".kube", "config")) || (env.KUBERNETES_SERVICE_HOST ?? "") !== "";
}
