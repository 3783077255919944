import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";

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

/**
 * loadDefaultKubeConfig for the process's start: a configuration that exists but cannot be read (KUBECONFIG
 * naming a missing file) is told in one warning and treated as none, so meshsight runs on as it does
 * outside a cluster (docs/mesh.md: the static mapping or cluster host names) instead of failing start.
 */
export async function loadKubeConfigOrWarn(logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig | null> {
  try {
    return await loadDefaultKubeConfig(env);
  } catch (error) {
    const source = (env.KUBECONFIG ?? "") === "" ? "~/.kube/config" : `KUBECONFIG=${env.KUBECONFIG}`;
    const reason = error instanceof Error ? error.message : String(error);
    logger.warn(
      { component: "kubernetes", reason },
      `cannot read the Kubernetes configuration (${source}): ${reason}; running without Kubernetes: peers are named from the static mapping or cluster host names, Kubernetes probes and actions are off`,
    );
    return null;
  }
}
