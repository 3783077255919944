import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bearer, gateHarness, seedCanaries, startTargetServer, TOKENS, type GateHarness } from "./gate-harness.ts";

interface Decision {
  verdict: string;
  reasons: string;
  checks: Array<{ name: string; ok: boolean; observed: unknown; expected: string; message: string }>;
  runId: string;
}

/**
 * Flagger's webhook calls exactly as Flagger sends them (CanaryWebhookPayload): pre-rollout, rollout and
 * confirm-promotion all carry phase "Progressing"; the metadata is what the Canary's webhook lists.
 */
const flaggerCall = (name: string, metadata: Record<string, string>) => ({ name, namespace: "default", phase: "Progressing", checksum: "85d557f47b", metadata });
const WEBHOOKS = {
  "pre-rollout": (name: string) => flaggerCall(name, { checks: "probes" }),
  rollout: (name: string) => flaggerCall(name, {}),
  "confirm-promotion": (name: string) => flaggerCall(name, { gate: `${name}-canary` }),
};

void describe("Flagger webhooks", () => {
  let harness: GateHarness;
  let target: Awaited<ReturnType<typeof startTargetServer>>;
  before(async () => {
    target = await startTargetServer();
    harness = await gateHarness();
    await seedCanaries(harness, target.url, Date.now());
  });
  after(async () => {
    await harness.stop();
    await target.close();
  });

  const post = async (url: string, payload: unknown) => {
    const response = await harness.app.inject({ method: "POST", url, payload: payload as Record<string, unknown>, headers: bearer(TOKENS.ci) });
    return { status: response.statusCode, body: response.json<Decision>(), retryAfter: response.headers["retry-after"] };
  };

  void it("passes a healthy canary on every webhook type with 200", async () => {
    for (const [type, payload] of Object.entries(WEBHOOKS)) {
      const reply = await post("/api/v1/flagger/gate", payload("reviews"));
      assert.equal(reply.status, 200, `${type}: ${reply.body.reasons}`);
      assert.equal(reply.body.verdict, "pass");
      assert.ok(reply.body.checks.every((check) => check.ok), type);
      assert.ok(reply.body.checks.some((check) => check.name === "probe:reviews-health"), type);
    }
    const rollout = await post("/api/v1/gates/reviews-canary/flagger", WEBHOOKS.rollout("reviews"));
    assert.deepEqual(rollout.body.checks.map((check) => check.name), ["probe:reviews-health", "traffic", "sla", "p99", "error-rate-vs-stable"]);
  });

  void it("fails an unhealthy canary with a non-2xx status and the reasons in the body", async () => {
    for (const [type, payload] of Object.entries(WEBHOOKS)) {
      const reply = await post("/api/v1/flagger/gate", payload("ratings"));
      assert.equal(reply.status, 403, type);
      assert.equal(reply.body.verdict, "fail");
      assert.match(reply.body.reasons, /probe:ratings-health: .*unhealthy: failure: expected status .*503/, type);
    }
    const reply = await post("/api/v1/gates/ratings-canary/flagger", WEBHOOKS.rollout("ratings"));
    const failing = Object.fromEntries(reply.body.checks.filter((check) => !check.ok).map((check) => [check.name, check.observed]));
    assert.deepEqual(Object.keys(failing).sort(), ["error-rate-vs-stable", "p99", "probe:ratings-health", "sla"]);
    assert.equal(failing.sla, 85);
    assert.ok((failing.p99 as number) > 800, `p99 ${String(failing.p99)}`);
    assert.match(reply.body.reasons, /sla: ratings\.default v2 answered 85 % of 200 calls successfully, below 99\.5 %/);
  });

  void it("answers a canary without traffic with 503 (retry) after the rollout starts, and passes its probes before", async () => {
    const pre = await post("/api/v1/flagger/gate", WEBHOOKS["pre-rollout"]("details"));
    assert.equal(pre.status, 200, "pre-rollout runs before the canary gets traffic: only the probes decide");
    for (const type of ["rollout", "confirm-promotion"] as const) {
      const reply = await post("/api/v1/flagger/gate", WEBHOOKS[type]("details"));
      assert.equal(reply.status, 503, type);
      assert.equal(reply.retryAfter, "30");
      assert.equal(reply.body.verdict, "insufficient-data");
      assert.match(reply.body.reasons, /traffic: details\.default v2 served 0 calls in the last 5m, fewer than the 50 needed/);
    }
  });

  void it("refuses a body that is not a Flagger payload, and an unknown canary", async () => {
    const bad = await post("/api/v1/flagger/gate", { name: "reviews" });
    assert.equal(bad.status, 400);
    const unknown = await post("/api/v1/flagger/gate", flaggerCall("nope", {}));
    assert.equal(unknown.status, 404);
  });

  void it("answers CI pipelines on POST /check with the verdict and a run id, and audits each decision", async () => {
    const reply = await post("/api/v1/gates/reviews-canary/check", {});
    assert.equal(reply.status, 200);
    assert.equal(reply.body.verdict, "pass");
    assert.match(reply.body.runId, /^[0-9a-f-]{36}$/);
    const audit = await harness.app.inject({ method: "GET", url: "/api/v1/gate-audit?gate=reviews-canary&limit=1" });
    const [latest] = audit.json<Array<{ who: string; action: string; via: string; evidence: { runId: string; verdict: string; checks: unknown[] } }>>();
    assert.equal(latest?.who, "ci-pipeline");
    assert.equal(latest.action, "check");
    assert.equal(latest.via, "api");
    assert.equal(latest.evidence.runId, reply.body.runId);
    assert.equal(latest.evidence.checks.length, reply.body.checks.length);
  });
});
