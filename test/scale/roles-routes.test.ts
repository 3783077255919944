/**
 * `--role` decides what a real `meshsight start` process builds: a collector-only process ingests and
 * keeps its health and metrics endpoints but has no prober or analyzer; an api-only process answers
 * queries and alerts but receives nothing. Both serve the trace APIs Grafana's Zipkin and Jaeger data
 * sources read on their HTTP API port.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliRun, killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort } from "../cli/cli-process.ts";

interface LogLine {
  msg?: string;
  component?: string;
  roles?: string[];
}

void describe("meshsight start --role", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-roles-"));
  const processes: Record<"collector" | "api", { run?: CliRun; base: string }> = { collector: { base: "" }, api: { base: "" } };

  const start = async (role: "collector" | "api"): Promise<void> => {
    const run = runCli(["start", "--role", role, "--http-port", "0", "--host", "127.0.0.1"], {
      MESHSIGHT_DATA_DIR: join(dir, role),
      ...RECEIVERS_ON_FREE_PORTS,
      MESHSIGHT_KUBERNETES: "off",
    });
    processes[role].run = run;
    processes[role].base = `http://127.0.0.1:${await waitForHttpPort(run)}`;
  };
  const logLines = (role: "collector" | "api"): LogLine[] => (processes[role].run?.stdoutLines() ?? []).map((line) => JSON.parse(line) as LogLine);
  const status = async (role: "collector" | "api", path: string, init?: RequestInit): Promise<number> => {
    const response = await fetch(`${processes[role].base}${path}`, init);
    await response.arrayBuffer();
    return response.status;
  };

  before(async () => {
    await Promise.all([start("collector"), start("api")]);
  });

  after(() => {
    killIfRunning(processes.collector.run);
    killIfRunning(processes.api.run);
    rmSync(dir, { recursive: true, force: true });
  });

  void it("keeps /healthz, /readyz and /metrics in every role", async () => {
    for (const role of ["collector", "api"] as const) {
      for (const path of ["/healthz", "/readyz", "/metrics"]) assert.equal(await status(role, path), 200, `${role} ${path}`);
      assert.deepEqual(logLines(role).find((line) => line.msg === "meshsight started")?.roles, [role]);
    }
  });

  void it("a collector-only process receives, and runs no prober or analyzer", async () => {
    const ingest = await fetch(`${processes.collector.base}/api/v1/logs?format=json&service=web&namespace=default`, { method: "POST", body: "{}\n" });
    const reply = (await ingest.json()) as { accepted?: number; rejected?: number };
    assert.equal(typeof reply.accepted, "number", JSON.stringify(reply));
    assert.ok(logLines("collector").some((line) => line.msg === "listening" && line.component === "als"), "the ALS receiver listens");
    assert.equal(await status("collector", "/api/v1/probes"), 404);
    assert.equal(await status("collector", "/api/v1/alerts"), 404);
    const metrics = await (await fetch(`${processes.collector.base}/metrics`)).text();
    assert.doesNotMatch(metrics, /^meshsight_analyzer_rounds_total/m);
  });

  void it("an api-only process answers queries and alerts, and receives nothing", async () => {
    assert.equal(await status("api", "/api/v1/services"), 200);
    assert.equal(await status("api", "/api/v1/alerts"), 200);
    assert.equal(await status("api", "/api/v1/logs?format=json", { method: "POST", body: "{}\n" }), 404);
    assert.equal(await status("api", "/api/v1/probes"), 404);
    assert.ok(!logLines("api").some((line) => line.component === "als"), "no ALS receiver");
  });

  void it("serves Zipkin's and Jaeger's query APIs on the HTTP API port in both roles", async () => {
    for (const role of ["collector", "api"] as const) {
      const base = processes[role].base;
      assert.deepEqual(await (await fetch(`${base}/api/v2/services`)).json(), [], `${role} Zipkin services`);
      assert.deepEqual(await (await fetch(`${base}/api/v2/dependencies?endTs=${Date.now()}&lookback=60000`)).json(), [], `${role} Zipkin dependencies`);
      const empty = { data: [], total: 0, limit: 0, offset: 0, errors: null };
      assert.deepEqual(await (await fetch(`${base}/api/services`)).json(), empty, `${role} Jaeger services`);
      assert.deepEqual(await (await fetch(`${base}/api/dependencies?endTs=${Date.now()}&lookback=60000`)).json(), empty, `${role} Jaeger dependencies`);
    }
  });

  void it("refuses an unknown role with a usage error naming it", async () => {
    const run = runCli(["start", "--role", "collector,router"]);
    assert.equal(await run.exited(), 2);
    assert.match(run.stderr(), /server\.roles = "collector,router" \(from --role\): unknown role "router"/);
  });

  void it("stops cleanly", async () => {
    for (const role of ["collector", "api"] as const) {
      const run = processes[role].run;
      assert.ok(run);
      const { code } = await stopWith(run, "SIGTERM");
      assert.equal(code, 0, run.stderr());
    }
  });
});
