import { KubeConfig } from "@kubernetes/client-node";

/** A client configuration built in code for the fake API server; plain HTTP needs skipTLSVerify in this client. */
export function kubeConfigFor(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "fake", server, skipTLSVerify: true }],
    users: [{ name: "tester", token: "test-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
    currentContext: "fake",
  });
  return config;
}
