import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { evaluateCondition, evaluateMeasurement, extractJsonPath } from "./argo-analysis.ts";
import { gateHarness, seedCanaries, startTargetServer, TOKENS, type GateHarness } from "./gate-harness.ts";

interface WebMetric {
  name: string;
  successCondition: string;
  failureCondition: string;
  provider: { web: { url: string; jsonPath: string; method?: string; headers: Array<{ key: string; value: string }> } };
}

/** The AnalysisTemplate exactly as docs/gating.md shows it. */
async function documentedTemplate(): Promise<{ metric: WebMetric; args: Array<{ name: string }> }> {
  const text = await readFile(new URL("../../../docs/gating.md", import.meta.url), "utf8");
  const block = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? "").find((yaml) => yaml.includes("kind: AnalysisTemplate"));
  assert.ok(block, "docs/gating.md shows an AnalysisTemplate");
  const template = parse(block) as { spec: { args: Array<{ name: string }>; metrics: WebMetric[] } };
  const [metric] = template.spec.metrics;
  assert.ok(metric);
  return { metric, args: template.spec.args };
}

/** Argo's `{{ args.x }}` substitution. */
const substitute = (text: string, args: Record<string, string>) => text.replace(/\{\{\s*args\.([\w-]+)\s*\}\}/g, (_all, name: string) => args[name] ?? `{{args.${name}}}`);

void describe("Argo Rollouts web metric", () => {
  let harness: GateHarness;
  let target: Awaited<ReturnType<typeof startTargetServer>>;
  let baseUrl: string;
  before(async () => {
    target = await startTargetServer();
    harness = await gateHarness();
    await seedCanaries(harness, target.url, Date.now());
    baseUrl = await harness.app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await harness.stop();
    await target.close();
  });

  /** One measurement as Argo takes it: request over a real socket, non-2xx is Error, else jsonPath and the conditions. */
  async function measure(gate: string): Promise<string> {
    const { metric, args } = await documentedTemplate();
    assert.deepEqual(args.map((arg) => arg.name), ["gate", "api-token"]);
    const values = { gate, "api-token": TOKENS.ci };
    const { web } = metric.provider;
    const url = substitute(web.url, values).replace("http://meshsight.monitoring:8080", baseUrl);
    const headers = Object.fromEntries(web.headers.map((header) => [header.key, substitute(header.value, values)]));
    const response = await fetch(url, { method: web.method ?? "GET", headers });
    if (response.status < 200 || response.status >= 300) return "Error";
    const result = extractJsonPath(await response.json(), web.jsonPath);
    return evaluateMeasurement(result, metric);
  }

  void it("measures a healthy canary as Successful, an unhealthy one as Failed, one without traffic as Inconclusive", async () => {
    assert.equal(await measure("reviews-canary"), "Successful");
    assert.equal(await measure("ratings-canary"), "Failed");
    assert.equal(await measure("details-canary"), "Inconclusive");
  });

  void it("answers 200 with the failing checks so Argo records Failed, not Error", async () => {
    const response = await fetch(`${baseUrl}/api/v1/gates/ratings-canary/analysis`, { headers: { authorization: `Bearer ${TOKENS.ci}` } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { ok: boolean; verdict: string; failing: Array<{ name: string }> };
    assert.equal(body.ok, false);
    assert.ok(body.failing.some((check) => check.name === "sla"));
  });

  void it("is an Error measurement without the token (the Secret is missing)", async () => {
    const response = await fetch(`${baseUrl}/api/v1/gates/reviews-canary/analysis`);
    assert.equal(response.status, 401);
  });
});

void describe("the Argo evaluation subset used above", () => {
  void it("follows expr-lang and Argo's outcome rules", () => {
    const result = { verdict: "pass", data: { ok: true, successRate: 0.995 } };
    assert.equal(extractJsonPath(result, "{$.data}"), result.data);
    assert.equal(evaluateCondition('result.ok == true && result.successRate >= 0.99', result.data), true);
    assert.equal(evaluateCondition('!(result.verdict == "pass") || result.data.ok == false', result), false);
    assert.equal(evaluateMeasurement(result, { successCondition: 'result.verdict == "pass"' }), "Successful");
    assert.equal(evaluateMeasurement({ verdict: "insufficient-data" }, { successCondition: 'result.verdict == "pass"' }), "Failed");
    assert.equal(evaluateMeasurement({ verdict: "fail" }, { successCondition: 'result.verdict == "pass"', failureCondition: 'result.verdict == "fail"' }), "Failed");
    assert.throws(() => evaluateCondition("result.verdict", result), /boolean/);
  });
});
