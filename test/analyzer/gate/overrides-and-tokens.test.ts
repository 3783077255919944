import assert from "node:assert/strict";
import { FileStateStore } from "../../../core/state/file-state.ts";
import { DEFAULT_STATE_LIMITS } from "../../../core/state/state-stores.ts";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bearer, gateHarness, seedCanaries, startTargetServer, TOKENS, writeCanaryTraffic, type GateHarness } from "./gate-harness.ts";

void describe("gate overrides and tokens", () => {
  let harness: GateHarness;
  let target: Awaited<ReturnType<typeof startTargetServer>>;
  /** The gates' clock: tests move it to expire overrides without waiting. */
  let clockMs = Date.now();
  before(async () => {
    target = await startTargetServer();
    harness = await gateHarness({}, () => clockMs);
    await seedCanaries(harness, target.url, clockMs);
  });
  after(async () => {
    await harness.stop();
    await target.close();
  });

  const request = async (method: "GET" | "POST" | "PUT" | "DELETE", url: string, token?: string, payload?: Record<string, unknown>) => {
    const response = await harness.app.inject({ method, url, ...(payload ? { payload } : {}), headers: token === undefined ? {} : bearer(token) });
    return { status: response.statusCode, body: response.body === "" ? {} : response.json<Record<string, unknown>>() };
  };
  const verdictOf = async (gate: string) => (await request("POST", `/api/v1/gates/${gate}/check`, TOKENS.ci)).body.verdict;

  void it("refuses a check without a token (401), with a wrong one (401) and with a token lacking gate:check (403)", async () => {
    assert.equal((await request("POST", "/api/v1/gates/reviews-canary/check")).status, 401);
    assert.equal((await request("POST", "/api/v1/gates/reviews-canary/check", "not-a-token")).status, 401);
    const wrongScope = await request("POST", "/api/v1/gates/reviews-canary/check", TOKENS.probesOnly);
    assert.equal(wrongScope.status, 403);
    assert.equal((wrongScope.body.error as { code: string }).code, "MS_FORBIDDEN");
  });

  void it("lets only admin tokens set overrides and change gates", async () => {
    const body = { action: "open", reason: "hotfix approved", ttl: "30m" };
    assert.equal((await request("POST", "/api/v1/gates/ratings-canary/override", TOKENS.ci, body)).status, 403);
    assert.equal((await request("PUT", "/api/v1/gates/new-gate", TOKENS.ci, { service: "reviews.default" })).status, 403);
    assert.equal((await request("DELETE", "/api/v1/gates/reviews-canary", TOKENS.ci)).status, 403);
  });

  void it("forces a failing gate open until the override expires, then judges it again", async () => {
    assert.equal(await verdictOf("ratings-canary"), "fail");
    const set = await request("POST", "/api/v1/gates/ratings-canary/override", TOKENS.admin, { action: "open", reason: "hotfix approved by on-call", ttl: "30m" });
    assert.equal(set.status, 200);
    assert.equal(set.body.by, "release-manager");
    const forced = await request("POST", "/api/v1/gates/ratings-canary/check", TOKENS.ci);
    assert.equal(forced.body.verdict, "pass");
    assert.deepEqual((forced.body.checks as Array<{ name: string }>).map((check) => check.name), ["override"]);
    assert.match(JSON.stringify(forced.body.checks), /forced open \(pass\) by release-manager until .*hotfix approved by on-call/);
    clockMs += 31 * 60_000;
    await writeCanaryTraffic(harness, clockMs);
    assert.equal(await verdictOf("ratings-canary"), "fail", "an expired override no longer decides");
  });

  void it("closes a healthy gate and clears the override early", async () => {
    assert.equal((await request("POST", "/api/v1/gates/reviews-canary/override", TOKENS.admin, { action: "close", reason: "freeze for INC-123", expiresAt: new Date(clockMs + 3_600_000).toISOString() })).status, 200);
    assert.equal(await verdictOf("reviews-canary"), "fail");
    assert.equal((await request("DELETE", "/api/v1/gates/reviews-canary/override", TOKENS.admin)).status, 204);
    assert.equal(await verdictOf("reviews-canary"), "pass");
    assert.equal((await request("DELETE", "/api/v1/gates/reviews-canary/override", TOKENS.admin)).status, 404);
  });

  void it("refuses an override that is already expired, lasts too long or has no reason", async () => {
    const url = "/api/v1/gates/reviews-canary/override";
    const expired = await request("POST", url, TOKENS.admin, { action: "open", reason: "late", expiresAt: new Date(clockMs - 1_000).toISOString() });
    assert.equal(expired.status, 400);
    assert.match((expired.body.error as { message: string }).message, /already past/);
    assert.equal((await request("POST", url, TOKENS.admin, { action: "open", reason: "long", ttl: "30d" })).status, 400);
    assert.equal((await request("POST", url, TOKENS.admin, { action: "open", ttl: "1h" })).status, 400);
    assert.equal((await request("POST", url, TOKENS.admin, { action: "maybe", reason: "x" })).status, 400);
  });

  void it("keeps overrides and API gates across a restart", async () => {
    await request("POST", "/api/v1/gates/details-canary/override", TOKENS.admin, { action: "open", reason: "no traffic in staging", ttl: "2h" });
    // What a restarted process reads: the gates state namespace in its file.
    const stored = new FileStateStore({ file: join(harness.prober.dataDir, "gates.json"), limits: DEFAULT_STATE_LIMITS, now: Date.now });
    await stored.start();
    assert.deepEqual((await stored.list("gate/", 100)).map((entry) => (entry.value as { name: string }).name).sort(), ["details-canary", "ratings-canary", "reviews-canary"]);
    assert.deepEqual((await stored.list("override/", 100)).map((entry) => (entry.value as { gate: string }).gate), ["details-canary"]);
  });

  void it("writes who, what, when and the evidence of every decision and override to the audit file", async () => {
    const lines = (await readFile(join(harness.prober.dataDir, "gate-audit.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { who: string; action: string; gate: string; atMs: number; evidence: Record<string, unknown> });
    const overrides = lines.filter((line) => line.action.startsWith("override."));
    assert.deepEqual(overrides.map((line) => [line.action, line.gate, line.who]), [
      ["override.open", "ratings-canary", "release-manager"],
      ["override.close", "reviews-canary", "release-manager"],
      ["override.clear", "reviews-canary", "release-manager"],
      ["override.open", "details-canary", "release-manager"],
    ]);
    assert.equal(overrides[0]?.evidence.reason, "hotfix approved by on-call");
    const checks = lines.filter((line) => line.action === "check");
    assert.equal(checks.length, 5, "one per check call above");
    assert.ok(checks.every((line) => line.who === "ci-pipeline" && typeof line.evidence.verdict === "string" && Array.isArray(line.evidence.checks) && line.atMs > 0));
    const refusedCalls = lines.filter((line) => line.who !== "ci-pipeline" && line.who !== "release-manager");
    assert.deepEqual(refusedCalls, [], "refused calls decide nothing and are not audited as decisions");
  });
});
