import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createRootCauseFinder } from "../../../analyzer/rca/root-cause.ts";
import type { ProbeResult } from "../../../core/model/probe.ts";
import type { SampledRecord } from "../../../core/model/sample.ts";
import type { Span } from "../../../core/model/span.ts";
import type { StorageReader } from "../../../core/storage/port.ts";
import { assertVerdict, BASELINE_START, CURRENT_START, findRootCause, healthyBookinfo, logger, MeshStores, NOW_MS, WINDOW_MINUTES } from "./bookinfo-cases.ts";

/** What a verdict carries besides the name: probe runs that sway it, samples, trace ids, and its bounds. */

const stores = new MeshStores();
after(() => stores.closeAll());

function probeRun(overrides: Partial<ProbeResult> & Pick<ProbeResult, "runId" | "startedMs">): ProbeResult {
  return { probe: "details-health", kind: "http", target: "http://details.default.svc.cluster.local:9080/health", service: "", status: "success", durationMs: 4, phases: { total: 4 }, message: "", attempt: 1, labels: {}, ...overrides };
}

function errorSample(overrides: Partial<SampledRecord> & Pick<SampledRecord, "timeMs">): SampledRecord {
  return {
    service: "ratings.default",
    instance: "ratings-v1-85cc46b6d4-tn9vj.default",
    endpoint: "GET:/ratings/{id}",
    detectPoint: "server",
    peerService: "reviews.default",
    responseCode: 503,
    responseFlags: "-",
    isError: true,
    latencyMs: 2.5,
    reason: "error",
    requestId: `req-${overrides.timeMs}`,
    traceId: "",
    raw: "{}",
    ...overrides,
  };
}

function errorSpan(traceId: string, startMs: number): Span {
  return {
    traceId,
    spanId: "00f067aa0ba902b7",
    parentSpanId: "",
    name: "GET /ratings/0",
    kind: "server",
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    durationNs: 2_500_000,
    service: "ratings.default",
    instance: "ratings-v1-85cc46b6d4-tn9vj.default",
    endpoint: "GET:/ratings/{id}",
    peerService: "",
    isError: true,
    statusMessage: "503",
    attributes: { "http.status_code": "503" },
    resourceAttributes: {},
  };
}

/** details and ratings fail equally (20 % of calls): metrics alone prefer ratings, the deeper one. */
function twoEqualSuspects(): ReturnType<typeof healthyBookinfo> {
  const services = healthyBookinfo();
  services["details.default"] = { calls: 90, errors: 18, latencyMs: 3 };
  services["ratings.default"] = { calls: 60, errors: 12, latencyMs: 3 };
  return services;
}

describe("root-cause evidence (DuckDB)", () => {
  it("with equal metrics prefers the deeper dependency", async () => {
    const store = await stores.open({ services: twoEqualSuspects() });
    assertVerdict(await findRootCause(store, ["productpage.default"]), "ratings.default");
  });

  it("lets failing probe runs on a dependency outrank an equally failing one", async () => {
    const store = await stores.open({ services: twoEqualSuspects() });
    await store.writeProbeResults([
      probeRun({ runId: "r1", startedMs: CURRENT_START + 30_000, status: "failure", message: "HTTP 503" }),
      probeRun({ runId: "r2", startedMs: CURRENT_START + 90_000, status: "timeout", message: "no answer in 2000 ms" }),
      probeRun({ runId: "r3", startedMs: CURRENT_START + 150_000 }),
      // Bound by service, not by target host: counts too.
      probeRun({ runId: "r4", startedMs: CURRENT_START + 200_000, probe: "details-tcp", kind: "tcp", target: "10.44.1.11:9080", service: "details.default", status: "failure" }),
      // Before the window: not counted.
      probeRun({ runId: "old", startedMs: BASELINE_START + 1_000, status: "failure" }),
    ]);
    const verdict = await findRootCause(store, ["productpage.default"]);
    assertVerdict(verdict, "details.default");
    assert.match(verdict.reason, /3 of 4 probe runs failed/);
    const probes = verdict.evidence.filter((item) => item.kind === "probe");
    assert.deepEqual(probes.map((item) => item.ref), [
      `/api/v1/probes/details-tcp/results?from=${CURRENT_START}&to=${NOW_MS}`,
      `/api/v1/probes/details-health/results?from=${CURRENT_START}&to=${NOW_MS}`,
      `/api/v1/probes/details-health/results?from=${CURRENT_START}&to=${NOW_MS}`,
    ]);
    assert.match(probes[1]?.summary ?? "", /timeout - no answer in 2000 ms/);
    const ratings = verdict.candidates.find((candidate) => candidate.service === "ratings.default");
    assert.ok(ratings && ratings.probePart === 0 && ratings.score < verdict.score, JSON.stringify(verdict.candidates));
  });

  it("carries error samples of the window and the trace ids of failing traces", async () => {
    const services = healthyBookinfo();
    services["ratings.default"] = { calls: 60, errors: 60, latencyMs: 3 };
    const store = await stores.open({ services });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await store.writeSamples([
      errorSample({ timeMs: BASELINE_START + 1_000, requestId: "before-the-window" }),
      errorSample({ timeMs: CURRENT_START + 1_000, traceId }),
      errorSample({ timeMs: CURRENT_START + 2_000, responseFlags: "UF", responseCode: 503 }),
      // An access log names the request's trace even when no span of it was ever stored.
      errorSample({ timeMs: CURRENT_START + 500, traceId: "0af7651916cd43dd8448eb211c80319c", requestId: "unsampled-trace" }),
      errorSample({ timeMs: CURRENT_START + 3_000, isError: false, responseCode: 200, reason: "uniform", requestId: "not-an-error" }),
    ]);
    await store.writeSpans([errorSpan(traceId, CURRENT_START + 1_000)]);
    const verdict = await findRootCause(store, ["reviews.default"]);
    assertVerdict(verdict, "ratings.default");
    const samples = verdict.evidence.filter((item) => item.kind === "sample");
    assert.equal(samples.length, 3, JSON.stringify(samples));
    assert.match(samples[0]?.summary ?? "", /^503 UF GET:\/ratings\/\{id\} on ratings-v1-85cc46b6d4-tn9vj\.default from reviews\.default/);
    assert.equal(samples[1]?.ref, `/api/v1/traces/${traceId}`);
    const unsampled = samples.find((item) => item.summary.includes("0af7651916cd43dd8448eb211c80319c"));
    assert.match(unsampled?.ref ?? "", /^\/api\/v1\/logs\?service=ratings\.default&errors=true&from=\d+&to=\d+$/, "a trace with no stored spans is linked as its log record, not a trace that answers 404");
    const traces = verdict.evidence.filter((item) => item.kind === "trace");
    assert.deepEqual(traces.map((item) => item.ref), [`/api/v1/traces/${traceId}`]);
    assert.match(traces[0]?.summary ?? "", /1 error span\(s\) of 1, root ratings\.default GET \/ratings\/0/);
  });

  it("takes samples from the callers when the cause logs nothing itself", async () => {
    const services = healthyBookinfo();
    services["ratings.default"] = { calls: 0, errors: 0, latencyMs: 0 };
    const store = await stores.open({ services, unansweredCalls: { "ratings.default": 60 } });
    await store.writeSamples([
      errorSample({ timeMs: CURRENT_START + 1_000, service: "reviews.default", instance: "reviews-v2-7b8f6d9c5-qz2lp.default", detectPoint: "client", peerService: "ratings.default", responseFlags: "UF" }),
    ]);
    const verdict = await findRootCause(store, ["reviews.default"]);
    assertVerdict(verdict, "ratings.default");
    assert.match(verdict.evidence[0]?.summary ?? "", /as its callers see it/);
    const samples = verdict.evidence.filter((item) => item.kind === "sample");
    assert.match(samples[0]?.summary ?? "", /from reviews\.default \(reviews-v2-7b8f6d9c5-qz2lp\.default\) to ratings\.default/);
  });

  it("never issues more storage queries than its budget", async () => {
    const services = healthyBookinfo();
    services["ratings.default"] = { calls: 60, errors: 60, latencyMs: 3 };
    const store = await stores.open({ services });
    for (const maxQueries of [2, 4, 24]) {
      let queries = 0;
      const counting = new Proxy<StorageReader>(store, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            queries++;
            return (value as (...params: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const finder = createRootCauseFinder({ reader: counting, logger, limits: { maxQueries } });
      const verdict = await finder.find({ symptomaticServices: ["productpage.default"], nowMs: NOW_MS, windowMinutes: WINDOW_MINUTES });
      assert.ok(queries <= maxQueries, `${queries} queries with a budget of ${maxQueries}`);
      if (maxQueries >= 4) assert.equal(verdict?.service, "ratings.default", `budget ${maxQueries}`);
    }
  });

  it("rejects a malformed request with a clear error and returns null without symptoms", async () => {
    const store = await stores.open({ services: healthyBookinfo() });
    const finder = createRootCauseFinder({ reader: store, logger });
    await assert.rejects(finder.find({ symptomaticServices: ["a"], nowMs: NOW_MS, windowMinutes: 0 }), /windowMinutes must be an integer from 1 to 10080, got 0/);
    await assert.rejects(finder.find({ symptomaticServices: ["a"], nowMs: Number.NaN, windowMinutes: 5 }), /nowMs must be epoch milliseconds/);
    assert.equal(await finder.find({ symptomaticServices: [], nowMs: NOW_MS, windowMinutes: 5 }), null);
    assert.throws(() => createRootCauseFinder({ reader: store, logger, limits: { maxDepth: 0 } }), /maxDepth must be a positive integer/);
  });
});
