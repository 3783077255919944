/**
 * Gate-check latency with a cached probe result: what Flagger and Argo see on every interval once the
 * release probes ran. A real HTTP server (the app with token auth), a real prober run for the first call,
 * DuckDB holding the canary's and stable version's minute metrics, the SLO checks on every call, and the
 * audit line appended before each answer. Sequential calls over one keep-alive connection.
 *
 *   npx tsx bench/gate-check.ts [calls=2000]
 */
import { request, Agent } from "node:http";
import { bearer, gateHarness, seedCanaries, startTargetServer, TOKENS } from "../test/analyzer/gate/gate-harness.ts";

const calls = Number(process.argv[2] ?? 2_000);

async function measure(label: string, metricsCacheTtlMs: number): Promise<void> {
  const target = await startTargetServer();
  const harness = await gateHarness({ probeResultTtlMs: 3_600_000, metricsCacheTtlMs });
  await seedCanaries(harness, target.url, Date.now());
  const baseUrl = new URL(await harness.app.listen({ port: 0, host: "127.0.0.1" }));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const check = (gate: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const call = request({ host: baseUrl.hostname, port: baseUrl.port, path: `/api/v1/gates/${gate}/check`, method: "POST", agent, headers: bearer(TOKENS.ci) }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      });
      call.on("error", reject);
      call.end();
    });
  const first = await check("reviews-canary");
  if (first.status !== 200 || !first.body.includes('"verdict":"pass"')) throw new Error(`unexpected first answer ${first.status} ${first.body}`);
  // Warm-up: JIT, DuckDB caches, the connection.
  for (let index = 0; index < 200; index++) await check(index % 2 === 0 ? "reviews-canary" : "ratings-canary");

  const latenciesMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  for (let index = 0; index < calls; index++) {
    const began = performance.now();
    const reply = await check(index % 2 === 0 ? "reviews-canary" : "ratings-canary");
    latenciesMs.push(performance.now() - began);
    if (reply.status !== 200) throw new Error(`call ${index}: status ${reply.status} ${reply.body}`);
  }
  const wallMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  latenciesMs.sort((a, b) => a - b);
  const quantile = (q: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? Number.NaN;
  const figures = {
    calls,
    p50Ms: quantile(0.5).toFixed(2),
    p95Ms: quantile(0.95).toFixed(2),
    p99Ms: quantile(0.99).toFixed(2),
    maxMs: (latenciesMs.at(-1) ?? Number.NaN).toFixed(2),
    checksPerSecond: Math.round((calls / wallMs) * 1_000),
    cpuMsPerCheck: ((cpu.user + cpu.system) / 1_000 / calls).toFixed(3),
  };
  process.stdout.write(`${label}:\n${JSON.stringify(figures, null, 2)}\n`);
  agent.destroy();
  await harness.stop();
  await target.close();
}

await measure("gate check, cached probe result, default gates.metricsCacheTtlMs (5 s)", 5_000);
await measure("gate check, cached probe result, SLO metrics read from DuckDB on every check (metricsCacheTtlMs 0)", 0);
