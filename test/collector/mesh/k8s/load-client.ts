/**
 * `@kubernetes/client-node` 2.x loads undici 8, which needs Node >= 22.19; on an older runtime importing it
 * throws. The Kubernetes tests then still run, marked TODO with the load error as their failure, so the gap
 * shows in every run instead of hiding behind a skip, without failing suites that cannot pass there.
 */
import { kubernetesClientRuntimeProblem } from "../../../../collector/mesh/k8s/runtime-support.ts";

import type { KubeConfig } from "@kubernetes/client-node";
import type * as KubernetesPeerResolverModule from "../../../../collector/mesh/k8s/kubernetes-peer-resolver.ts";

type ResolverModule = typeof KubernetesPeerResolverModule;

export type KubernetesClient =
  | { loaded: true; resolverModule: ResolverModule; kubeConfigFor: (server: string) => KubeConfig; testOptions: { todo?: string } }
  | { loaded: false; error: Error; testOptions: { todo: string } };


export async function loadKubernetesClient(): Promise<KubernetesClient> {
  // Checked first: a failed import of the client leaves an unhandled rejection that fails the test file.
  const problem = kubernetesClientRuntimeProblem();
  if (problem) {
    const error = new Error(`@kubernetes/client-node cannot load here: ${problem}`);
    return { loaded: false, error, testOptions: { todo: error.message } };
  }
  try {
    const resolverModule = await import("../../../../collector/mesh/k8s/kubernetes-peer-resolver.ts");
    const { KubeConfig } = await import("@kubernetes/client-node");
    /** A configuration built in code for the fake API server; plain HTTP needs skipTLSVerify in this client. */
    const kubeConfigFor = (server: string): KubeConfig => {
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: "fake", server, skipTLSVerify: true }],
        users: [{ name: "tester", token: "test-token" }],
        contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
        currentContext: "fake",
      });
      return config;
    };
    return { loaded: true, resolverModule, kubeConfigFor, testOptions: {} };
  } catch (cause) {
    const error = new Error(`@kubernetes/client-node does not load on Node ${process.version}`, { cause });
    return { loaded: false, error, testOptions: { todo: `${error.message}: needs Node >= 22.19 (undici 8)` } };
  }
}
