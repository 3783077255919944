import { KubeConfig } from "@kubernetes/client-node";

/**
 * The standard Kubernetes client configuration, found the way kubectl and every client library find it:
 * `KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account (`loadFromDefault()` reads
 * those itself). Null when none exists: `loadFromDefault()` would then silently point at
 * `http://localhost:8080`, which is never what an operator meant, so that fallback is recognized and
 * refused here.
 */
export function loadDefaultKubeConfig(): KubeConfig | null {
  const config = new KubeConfig();
  config.loadFromDefault();
  const cluster = config.getCurrentCluster();
  if (!cluster) return null;
  const isLibraryFallback = cluster.name === "cluster" && cluster.server === "http://localhost:8080" && config.getCurrentUser()?.name === "user";
  return isLibraryFallback ? null : config;
}
