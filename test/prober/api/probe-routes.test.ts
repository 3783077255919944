import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../../core/http/app.ts";
import { FileStateStore } from "../../../core/state/file-state.ts";
import { DEFAULT_STATE_LIMITS } from "../../../core/state/state-stores.ts";
import type { ProbeResult } from "../../../core/model/probe.ts";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { waitFor as until } from "../../support/wait-for.ts";
import { RecordingKind, lookup, proberHarness, silentLogger, type ProberHarness } from "../helpers.ts";
import { parsePromText, sampleValue } from "./prom-text.ts";

interface Setup {
  harness: ProberHarness;
  app: FastifyInstance;
  kind: RecordingKind;
  close: () => Promise<void>;
}

async function setup(): Promise<Setup> {
  const kind = new RecordingKind("test");
  const harness = await proberHarness(lookup(kind, httpKind));
  await harness.start();
  const app = buildApp({ logger: silentLogger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1_000_000, routes: harness.prober.routes });
  await app.ready();
  return {
    harness,
    app,
    kind,
    close: async () => {
      await app.close();
      await harness.stop();
    },
  };
}

/** A local HTTP target: /ok answers 200, /down 503. */
async function startTarget(): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    response.statusCode = request.url === "/down" ? 503 : 200;
    response.end(request.url === "/down" ? "unavailable" : "fine");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("probe API", () => {
  it("creates, lists, replaces and deletes cases, persisting API cases, with field-naming validation errors", async () => {
    const { app, harness, close } = await setup();
    try {
      const put = await app.inject({ method: "PUT", url: "/api/v1/probes/web", payload: { kind: "test", targets: ["a"], service: "web.default", schedule: { every: "30s" } } });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json<{ name: string }>().name, "web");
      const list = await app.inject({ method: "GET", url: "/api/v1/probes" });
      assert.deepEqual(list.json<Array<{ name: string }>>().map((probe) => probe.name), ["web"]);
      const one = await app.inject({ method: "GET", url: "/api/v1/probes/web" });
      assert.equal(one.json<{ timeoutMs: number }>().timeoutMs, 10_000);

      const invalid = await app.inject({ method: "PUT", url: "/api/v1/probes/web", payload: { kind: "test", targets: ["a"], schedule: { every: "soon" } } });
      assert.equal(invalid.statusCode, 400);
      const error = invalid.json<{ error: { code: string; message: string } }>().error;
      assert.equal(error.code, "MS_VALIDATION_FAILED");
      assert.match(error.message, /PUT \/api\/v1\/probes\/web: case "web" field schedule/);
      const mismatch = await app.inject({ method: "PUT", url: "/api/v1/probes/web", payload: { name: "other", kind: "test", targets: ["a"] } });
      assert.equal(mismatch.statusCode, 400);
      assert.match(mismatch.body, /the body names case \\"other\\" but the path names \\"web\\"/);
      const notObject = await app.inject({ method: "PUT", url: "/api/v1/probes/web", payload: [1, 2] });
      assert.equal(notObject.statusCode, 400);

      // What a restarted prober reads: the probe-cases state namespace in its file.
      const stored = new FileStateStore({ file: `${harness.dataDir}/probe-cases.json`, limits: DEFAULT_STATE_LIMITS, now: Date.now });
      await stored.start();
      assert.deepEqual((await stored.list("case/", 10)).map((entry) => (entry.value as { name: string }).name), ["web"]);

      assert.equal((await app.inject({ method: "DELETE", url: "/api/v1/probes/web" })).statusCode, 204);
      const gone = await app.inject({ method: "DELETE", url: "/api/v1/probes/web" });
      assert.equal(gone.statusCode, 404);
      assert.equal(gone.json<{ error: { code: string } }>().error.code, "MS_NOT_FOUND");
      const afterDelete = new FileStateStore({ file: `${harness.dataDir}/probe-cases.json`, limits: DEFAULT_STATE_LIMITS, now: Date.now });
      await afterDelete.start();
      assert.deepEqual(await afterDelete.list("case/", 10), []);
      assert.equal((await app.inject({ method: "GET", url: "/api/v1/probes/web" })).statusCode, 404);
    } finally {
      await close();
    }
  });

  it("runs a case on demand, waits for the result, and serves results and series from storage", async () => {
    const { app, harness, close } = await setup();
    try {
      await app.inject({ method: "PUT", url: "/api/v1/probes/manual", payload: { kind: "test", targets: ["a", "b"], retries: 1, spec: { failFirst: 1 } } });
      const waited = await app.inject({ method: "POST", url: "/api/v1/probes/manual/run?wait=true" });
      assert.equal(waited.statusCode, 200, waited.body);
      const body = waited.json<{ runId: string; results: ProbeResult[] }>();
      assert.equal(body.results.length, 2);
      for (const result of body.results) {
        assert.equal(result.runId, body.runId);
        assert.equal(result.status, "success");
        assert.equal(result.attempt, 2);
      }
      const started = await app.inject({ method: "POST", url: "/api/v1/probes/manual/run?target=a" });
      assert.equal(started.statusCode, 202);
      const { runId } = started.json<{ runId: string }>();
      await until(async () => {
        const results = await app.inject({ method: "GET", url: "/api/v1/probes/manual/results?target=a&limit=10" });
        return results.json<ProbeResult[]>().some((result) => result.runId === runId);
      }, "the fire-and-forget run's result");
      assert.equal((await app.inject({ method: "POST", url: "/api/v1/probes/manual/run?target=zzz" })).statusCode, 400);
      assert.equal((await app.inject({ method: "POST", url: "/api/v1/probes/nope/run" })).statusCode, 404);
      assert.equal((await app.inject({ method: "GET", url: "/api/v1/probes/manual/results?status=great" })).statusCode, 400);

      await harness.prober.internals.results.flush();
      const series = await app.inject({ method: "GET", url: "/api/v1/probes/manual/series?step=minute" });
      assert.equal(series.statusCode, 200, series.body);
      const points = series.json<{ points: Array<{ target: string; runs: number; successRate: number }> }>().points;
      const runsOfA = points.filter((point) => point.target === "a").reduce((sum, point) => sum + point.runs, 0);
      assert.equal(runsOfA, 2);
      assert.equal((await app.inject({ method: "GET", url: "/api/v1/probes/manual/series?step=week" })).statusCode, 400);
    } finally {
      await close();
    }
  });

  it("runs every case bound to a released service", async () => {
    const { app, kind, close } = await setup();
    try {
      for (const [name, service] of [["one", "pay.default"], ["two", "pay.default"], ["other", "web.default"]]) {
        await app.inject({ method: "PUT", url: `/api/v1/probes/${name}`, payload: { kind: "test", targets: [`${name}-target`], service } });
      }
      const event = await app.inject({ method: "POST", url: "/api/v1/events", payload: { type: "release", service: "pay.default", version: "1.2.0" } });
      assert.equal(event.statusCode, 202, event.body);
      const runs = event.json<{ runs: Array<{ probe: string; runId: string }> }>().runs;
      assert.deepEqual(runs.map((run) => run.probe), ["one", "two"]);
      await until(() => kind.calls.length >= 2, "both bound cases ran");
      assert.deepEqual(kind.calls.map((call) => call.target).sort(), ["one-target", "two-target"]);
      const bad = await app.inject({ method: "POST", url: "/api/v1/events", payload: { type: "deploy", service: "pay.default" } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /field type: expected \\"release\\"/);
    } finally {
      await close();
    }
  });

  it("answers blackbox /probe with Prometheus text and exports per-case metrics that go with the case", async () => {
    const { app, close } = await setup();
    const target = await startTarget();
    try {
      const ok = await app.inject({ method: "GET", url: `/probe?module=http_2xx&target=${encodeURIComponent(`${target.url}/ok`)}` });
      assert.equal(ok.statusCode, 200);
      assert.match(String(ok.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      const samples = parsePromText(ok.body);
      assert.equal(sampleValue(samples, "probe_success"), 1);
      assert.equal(sampleValue(samples, "probe_http_status_code"), 200);
      assert.ok((sampleValue(samples, "probe_duration_seconds") ?? -1) >= 0);
      assert.ok(sampleValue(samples, "probe_http_duration_seconds", { phase: "connect" }) !== undefined, ok.body);

      const down = parsePromText((await app.inject({ method: "GET", url: `/probe?module=http&target=${encodeURIComponent(`${target.url}/down`)}` })).body);
      assert.equal(sampleValue(down, "probe_success"), 0, "a failed probe is still a 200 with probe_success 0");
      assert.equal(sampleValue(down, "probe_http_status_code"), 503);
      assert.equal((await app.inject({ method: "GET", url: "/probe?module=http" })).statusCode, 400);
      assert.equal((await app.inject({ method: "GET", url: `/probe?module=nope&target=x` })).statusCode, 400);

      await app.inject({ method: "PUT", url: "/api/v1/probes/site", payload: { kind: "http", targets: [`${target.url}/ok`, `${target.url}/down`] } });
      const run = await app.inject({ method: "POST", url: "/api/v1/probes/site/run?wait=true" });
      const statuses = run.json<{ results: ProbeResult[] }>().results.map((result) => [result.target.slice(target.url.length), result.status, result.message]);
      assert.deepEqual(statuses.map(([path, status]) => [path, status]), [["/ok", "success"], ["/down", "failure"]]);
      assert.match(String(statuses[1]?.[2]), /503/);
      const byCase = parsePromText((await app.inject({ method: "GET", url: "/probe?module=site&target=" + encodeURIComponent(`${target.url}/ok`) })).body);
      assert.equal(sampleValue(byCase, "probe_success"), 1, "a case name works as the module");

      const metrics = parsePromText((await app.inject({ method: "GET", url: "/metrics" })).body);
      assert.equal(sampleValue(metrics, "probe_success", { probe: "site", target: `${target.url}/ok` }), 1);
      assert.equal(sampleValue(metrics, "probe_success", { probe: "site", target: `${target.url}/down` }), 0);
      assert.equal(sampleValue(metrics, "probe_http_status_code", { probe: "site", target: `${target.url}/down` }), 503);
      assert.ok(sampleValue(metrics, "probe_http_duration_seconds", { probe: "site", phase: "connect" }) !== undefined);
      assert.equal(metrics.filter((sample) => sample.labels.target === `${target.url}/ok` && sample.name.startsWith("probe_") && sample.labels.probe !== "site").length, 0, "ad-hoc /probe runs make no series");

      await app.inject({ method: "DELETE", url: "/api/v1/probes/site" });
      const after = parsePromText((await app.inject({ method: "GET", url: "/metrics" })).body);
      assert.equal(after.filter((sample) => sample.labels.probe === "site").length, 0, "a deleted case's series are gone");
    } finally {
      target.server.close();
      await close();
    }
  });
});
