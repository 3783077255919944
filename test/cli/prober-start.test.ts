import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { startFakeBatchApi } from "../prober/kinds/support/fake-batch-api.ts";
import { listen } from "../prober/kinds/support/servers.ts";
import { freePort } from "../services/index.ts";
import { waitFor } from "../support/wait-for.ts";
import { type CliRun, killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort } from "./cli-process.ts";

const SDK = fileURLToPath(new URL("../../prober/sdk/define-probe.ts", import.meta.url));

interface StoredResult {
  status: string;
  message: string;
  phases: Record<string, number>;
}

/** What a Kubernetes client reads: a kubeconfig naming the fake API server (plain HTTP, a dummy token). */
function kubeconfigFor(server: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{ name: fake, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]`,
    "users: [{ name: tester, user: { token: test-token } }]",
    "contexts: [{ name: fake, context: { cluster: fake, user: tester } }]",
    "current-context: fake",
    "",
  ].join("\n");
}

describe("meshsight start runs script and k8s-job cases from its config", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-prober-start-"));
  let target: Awaited<ReturnType<typeof listen>>;
  let kubeApi: Awaited<ReturnType<typeof startFakeBatchApi>>;
  let run: CliRun | undefined;
  let base = "";

  before(async () => {
    target = await listen((request, response) => void response.writeHead(request.url === "/health" ? 200 : 404).end(request.url === "/health" ? "UP" : "no"));
    kubeApi = await startFakeBatchApi();
    const scripts = join(dir, "scripts");
    mkdirSync(scripts);
    writeFileSync(
      join(scripts, "health.ts"),
      `import { defineProbe } from ${JSON.stringify(SDK)};
export default defineProbe({
  name: "health",
  async run(ctx) {
    await ctx.check("health answers UP", async () => {
      const body = await (await ctx.http(\`\${ctx.target}/health\`)).text();
      if (body !== "UP") throw new Error(\`body is \${body}\`);
    });
  },
});
`,
    );
    writeFileSync(
      join(dir, "cases.yaml"),
      `cases:
  - name: scripted
    kind: script
    targets: ["${target.origin}"]
    schedule: { every: 1s }
    priority: high
    timeout: 10s
    spec: { file: health.ts }
  - name: in-cluster
    kind: k8s-job
    targets: [checkout.default]
    timeout: 20s
    spec: { image: ghcr.io/example/check:1 }
`,
    );
    writeFileSync(join(dir, "kubeconfig"), kubeconfigFor(kubeApi.url));
    // The report URL is given before start, so the HTTP port is chosen up front.
    const port = await freePort();
    run = runCli(["start", "--http-port", String(port), "--host", "127.0.0.1"], {
      MESHSIGHT_DATA_DIR: join(dir, "data"),
      ...RECEIVERS_ON_FREE_PORTS,
      MESHSIGHT_KUBERNETES: "off",
      KUBECONFIG: join(dir, "kubeconfig"),
      MESHSIGHT_PROBE_CASE_FILES: join(dir, "cases.yaml"),
      MESHSIGHT_PROBE_SCRIPT_CASES_DIR: scripts,
      MESHSIGHT_PROBE_K8S_JOB_REPORTING_URL: `http://127.0.0.1:${port}/api/v1/kuberhealthy/check`,
      MESHSIGHT_PROBE_K8S_JOB_NAMESPACE: "probes",
      MESHSIGHT_PROBE_RESULT_FLUSH_INTERVAL_MS: "100",
    });
    assert.equal(await waitForHttpPort(run), port);
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    killIfRunning(run);
    await target.close();
    await kubeApi.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the scheduled script case and serves its results", async () => {
    let results: StoredResult[] = [];
    await waitFor(async () => {
      const response = await fetch(`${base}/api/v1/probes/scripted/results`);
      results = response.ok ? ((await response.json()) as StoredResult[]) : [];
      return results.length >= 2;
    }, "two stored runs of the script case", 30_000);
    for (const result of results) {
      assert.equal(result.status, "success", result.message);
      assert.ok("check:health answers UP" in result.phases, `the check is a phase: ${Object.keys(result.phases).join(", ")}`);
    }
    const listed = (await (await fetch(`${base}/api/v1/probes/scripted`)).json()) as { priority?: string };
    assert.equal(listed.priority, "high");
  });

  it("runs a k8s-job case whose checker reports to the report URL meshsight was configured with", async () => {
    const running = fetch(`${base}/api/v1/probes/in-cluster/run?wait=true`, { method: "POST" });
    await waitFor(() => kubeApi.created.length > 0, "the checker Job to be created", 10_000);
    const job = kubeApi.created[0]!;
    assert.equal(job.namespace, "probes");
    const env = Object.fromEntries(job.body.spec.template.spec.containers[0]!.env.map(({ name, value }) => [name, value]));
    const report = await fetch(env.KH_REPORTING_URL!, { method: "POST", headers: { "content-type": "application/json", "kh-run-uuid": env.KH_RUN_UUID! }, body: JSON.stringify({ OK: true, Errors: [] }) });
    assert.equal(report.status, 200, await report.text());
    const answer = (await (await running).json()) as { results: StoredResult[] };
    assert.deepEqual(answer.results.map((result) => result.status), ["success"]);
    await waitFor(() => kubeApi.deleted.length > 0, "the Job to be deleted");
    assert.equal(kubeApi.deleted[0]?.name, job.body.metadata.name);
  });

  it("stops cleanly", async () => {
    assert.ok(run);
    const { code } = await stopWith(run, "SIGTERM");
    assert.equal(code, 0, run.stderr());
  });
});
