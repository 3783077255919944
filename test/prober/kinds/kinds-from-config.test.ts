import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { kindsFromConfig } from "../../../prober/kinds/kinds-from-config.ts";
import { kubeConfigFor } from "../../collector/mesh/k8s/kube-config-for.ts";
import { proberConfig, silentLogger } from "../helpers.ts";

const scriptCasesDir = fileURLToPath(new URL("./script-cases/", import.meta.url));
const reportingUrl = "http://meshsight.monitoring.svc:8080/api/v1/kuberhealthy/check";

describe("probe kinds from the prober config", () => {
  it("has only the built-in kinds without script or Kubernetes settings", () => {
    const { kinds, routes } = kindsFromConfig(proberConfig(), null, silentLogger);
    assert.deepEqual(["http", "tcp", "dns", "grpc", "tls"].filter((name) => kinds(name) === undefined), []);
    assert.equal(kinds("script"), undefined);
    assert.equal(kinds("k8s-job"), undefined);
    assert.equal(routes.length, 0, "no report route when no run can wait for a report");
  });

  it("adds script with a cases directory, and k8s-job with cluster access and a report URL, mounting its report route", () => {
    const { kinds, routes } = kindsFromConfig(proberConfig({ scriptCasesDir, k8sJobReportingUrl: reportingUrl }), kubeConfigFor("http://127.0.0.1:1"), silentLogger);
    assert.equal(kinds("script")?.name, "script");
    assert.deepEqual(kinds("script")?.parseSpec({ file: "passes.ts" }), { file: `${scriptCasesDir}passes.ts`, memoryMb: 64, env: {} });
    assert.equal(kinds("k8s-job")?.name, "k8s-job");
    assert.equal(routes.length, 1);
  });

  it("keeps k8s-job off when the report URL is set but no cluster configuration was found", () => {
    const { kinds, routes } = kindsFromConfig(proberConfig({ k8sJobReportingUrl: reportingUrl }), null, silentLogger);
    assert.equal(kinds("k8s-job"), undefined);
    assert.equal(routes.length, 0);
  });
});
