import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { InvalidProbeSpecError } from "../../../prober/kinds/kind.ts";
import { PendingReports } from "../../../prober/kinds/k8s-job/pending-reports.ts";
import { createProbeKindRegistry } from "../../../prober/kinds/registry.ts";
import { kubeConfigFor } from "../../collector/mesh/k8s/kube-config-for.ts";

const casesDir = fileURLToPath(new URL("./script-cases/", import.meta.url));

describe("probe kind registry", () => {
  it("has the built-in kinds, and script and k8s-job only when configured", () => {
    assert.deepEqual(createProbeKindRegistry().names(), ["dns", "grpc", "http", "tcp", "tls"]);
    const full = createProbeKindRegistry({
      script: { casesDir },
      k8sJob: { kubeConfig: kubeConfigFor("http://127.0.0.1:1"), reportingUrl: "http://meshsight/api/v1/kuberhealthy/check", reports: new PendingReports(1), defaultNamespace: "probes" },
    });
    assert.deepEqual(full.names(), ["dns", "grpc", "http", "k8s-job", "script", "tcp", "tls"]);
  });

  it("parses a spec by kind name, naming unknown and unavailable kinds", () => {
    const registry = createProbeKindRegistry();
    assert.deepEqual((registry.parseProbeCaseSpec("tcp", { send: "x" }) as { send: string }).send, "x");
    assert.equal((registry.parseProbeCaseSpec("http", undefined) as { method: string }).method, "GET");
    assert.throws(() => registry.parseProbeCaseSpec("ftp", {}), (error: unknown) => error instanceof InvalidProbeSpecError && error.message === 'unknown kind "ftp"; known kinds: dns, grpc, http, tcp, tls');
    assert.throws(() => registry.parseProbeCaseSpec("script", { file: "passes.ts" }), /kind script is not available here: no script cases directory is configured/);
  });

  it("looks kinds up in the shape parseProbeCase takes, and resolves script files under the cases directory", () => {
    const registry = createProbeKindRegistry({ script: { casesDir } });
    assert.equal(registry.lookup("http")?.name, "http");
    assert.equal(registry.lookup("ftp"), undefined);
    assert.equal((registry.parseProbeCaseSpec("script", { file: "passes.ts" }) as { file: string }).file, `${casesDir}passes.ts`);
  });
});
