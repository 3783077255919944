import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../../core/config/config-error.ts";
import { loadConfig } from "../../core/config/load.ts";
import { proberSection } from "../../prober/config.ts";

const load = (env: Record<string, string>, argv: string[] = []) => loadConfig(argv, env, { prober: proberSection }).prober;

describe("prober config", () => {
  it("turns script and k8s-job settings from the environment into typed options", () => {
    const config = load({
      MESHSIGHT_PROBE_SCRIPT_CASES_DIR: "/etc/meshsight/scripts",
      MESHSIGHT_PROBE_SCRIPT_ENV: "REGION=eu, TOKEN=a=b,EMPTY=",
      MESHSIGHT_PROBE_K8S_JOB_REPORTING_URL: "http://meshsight.monitoring.svc:8080/api/v1/kuberhealthy/check",
      MESHSIGHT_PROBE_K8S_JOB_NAMESPACE: "probes",
    });
    assert.equal(config.scriptCasesDir, "/etc/meshsight/scripts");
    assert.deepEqual(config.scriptEnv, { REGION: "eu", TOKEN: "a=b", EMPTY: "" });
    assert.equal(config.k8sJobReportingUrl, "http://meshsight.monitoring.svc:8080/api/v1/kuberhealthy/check");
    assert.equal(config.k8sJobNamespace, "probes");
    assert.equal(config.highPriorityConcurrency, 16);
  });

  it("leaves script and k8s-job off by default", () => {
    const config = load({});
    assert.equal(config.scriptCasesDir, undefined);
    assert.equal(config.k8sJobReportingUrl, undefined);
    assert.deepEqual(config.scriptEnv, {});
  });

  it("refuses settings that cannot work, naming the key", () => {
    assert.throws(() => load({ MESHSIGHT_PROBE_SCRIPT_MEMORY_MB: "1024" }), (error: unknown) => error instanceof ConfigError && /scriptMemoryMb/.test(error.message) && /scriptMaxMemoryMb/.test(error.message));
    assert.throws(() => load({ MESHSIGHT_PROBE_K8S_JOB_NAMESPACE: "Not_A_Namespace" }), (error: unknown) => error instanceof ConfigError && /k8sJobNamespace/.test(error.message));
    assert.throws(() => load({ MESHSIGHT_PROBE_K8S_JOB_REPORTING_URL: "meshsight:8080" }), (error: unknown) => error instanceof ConfigError && /k8sJobReportingUrl/.test(error.message));
    assert.throws(() => load({ MESHSIGHT_PROBE_SCRIPT_ENV: "1BAD=x" }), (error: unknown) => error instanceof ConfigError && /scriptEnv/.test(error.message));
  });

  it("reads the egress policy and the probe files directory, refusing entries that are no range, address or host name", () => {
    const config = load({
      MESHSIGHT_PROBE_EGRESS_ALLOW: "127.0.0.0/8, ::1, *.svc.cluster.local",
      MESHSIGHT_PROBE_EGRESS_DENY: "10.0.0.0/8,[fd00::]/8",
      MESHSIGHT_PROBE_EGRESS_DEFAULT_ACTION: "deny",
      MESHSIGHT_PROBE_FILES_DIR: "/etc/meshsight/probe-files",
    });
    assert.deepEqual(config.egress, { allow: ["127.0.0.0/8", "::1", "*.svc.cluster.local"], deny: ["10.0.0.0/8", "[fd00::]/8"], defaultAction: "deny" });
    assert.equal(config.filesDir, "/etc/meshsight/probe-files");
    assert.deepEqual(load({}).egress, { allow: [], deny: [], defaultAction: "allow" });
    for (const bad of ["10.0.0.0/33", "http://x", "a b", "*"]) {
      assert.throws(() => load({ MESHSIGHT_PROBE_EGRESS_ALLOW: bad }), (error: unknown) => error instanceof ConfigError && /prober\.egress\.allow\.0/.test(error.message) && /MESHSIGHT_PROBE_EGRESS_ALLOW/.test(error.message), bad);
    }
  });
});
