import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import type { KubernetesPeerResolverOptions } from "./k8s/kubernetes-peer-resolver.ts";

import { NullPeerResolver, StaticPeerResolver, type ManagedPeerResolver } from "./peer-resolver.ts";

export interface PeerResolverInputs {
  /**
   * "auto": use Kubernetes when a configuration is found (in-cluster, KUBECONFIG, ~/.kube/config);
   * "off": never. Set by the composition root from config, never read from the environment here.
   */
  kubernetes: "auto" | "off";
  /** Path of a static IP/CIDR mapping file (see StaticPeerResolver), "" for none. */
  staticMappingFile: string;
  logger: Logger;
  rejects: RejectCounter;
  /** Finds the Kubernetes configuration; defaults to the client library's standard loading. */
  loadKubeConfig?: () => KubeConfig | null | Promise<KubeConfig | null>;
  /** Tuning of the Kubernetes resolver (cache size and TTL, reconnect backoff). */
  kubernetesTuning?: Pick<KubernetesPeerResolverOptions, "maxObjects" | "cacheEntries" | "cacheTtlMs" | "reconnect">;
}

/**
 * Picks the peer source: Kubernetes when a configuration is available, else the static mapping file when
 * one is given, else none (peers are then named from cluster host names only). Not started: the caller
 * owns start/stop through the lifecycle.
 *
 * The Kubernetes client is imported lazily, so a process that does not use it never loads it, and a
 * client that fails to set up degrades to the next source with a clear log line instead of failing start.
 */
export async function createPeerResolver(inputs: PeerResolverInputs): Promise<ManagedPeerResolver> {
  if (inputs.kubernetes === "auto") {
    const kubernetes = await tryKubernetes(inputs);
    if (kubernetes) return kubernetes;
  }
  if (inputs.staticMappingFile) {
    // A mapping file the operator named but that cannot be read is a configuration error: fail loudly.
    const resolver = await StaticPeerResolver.fromFile(inputs.staticMappingFile);
    inputs.logger.info({ file: inputs.staticMappingFile }, "peers resolved from a static mapping file");
    return resolver;
  }
  inputs.logger.info("no Kubernetes configuration and no static mapping: peers are named from cluster host names only");
  return new NullPeerResolver();
}

async function tryKubernetes(inputs: PeerResolverInputs): Promise<ManagedPeerResolver | null> {
  try {
    const loadKubeConfig = inputs.loadKubeConfig ?? (await import("../../core/kubernetes/kube-config.ts")).loadDefaultKubeConfig;
    const kubeConfig = await loadKubeConfig();
    if (!kubeConfig) return null;
    const { KubernetesPeerResolver } = await import("./k8s/kubernetes-peer-resolver.ts");
    inputs.logger.info({ server: kubeConfig.getCurrentCluster()?.server }, "peers resolved through the Kubernetes API");
    return new KubernetesPeerResolver({ ...inputs.kubernetesTuning, kubeConfig, logger: inputs.logger, rejects: inputs.rejects });
  } catch (error) {
    inputs.logger.error(
      { error: error instanceof Error ? error.message : String(error), node: process.version },
      "cannot use the Kubernetes API for peer resolution; falling back to the static mapping or cluster host names",
    );
    return null;
  }
}
