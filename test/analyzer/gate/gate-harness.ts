import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { buildApp } from "../../../core/http/app.ts";
import { createApiAuth, sha256Hex } from "../../../core/http/auth.ts";
import { newDenseHistogram, recordLatency, toSparse } from "../../../core/model/histogram.ts";
import type { MinuteMetrics } from "../../../core/model/metrics.ts";
import { gateSection, type GateConfig } from "../../../analyzer/gate/config.ts";
import { createGates, type Gates } from "../../../analyzer/gate/gates.ts";
import type { RunReleaseProbes } from "../../../analyzer/gate/release-probes.ts";
import { createProbeKindRegistry } from "../../../prober/kinds/registry.ts";
import type { Prober } from "../../../prober/prober.ts";
import { proberHarness, silentLogger, type ProberHarness } from "../../prober/helpers.ts";

/** Bearer tokens of the gate tests: one per scope the gate routes need, and one that lacks them. */
export const TOKENS = { ci: "ci-7d1f0e", admin: "admin-2b9a44", probesOnly: "probes-c3e5d1" };

/**
 * What cli.ts wires: the release-probe function over the real prober (runs every case bound to the
 * service, or the named ones, against every target, as `POST /api/v1/events` does).
 */
export function releaseProbesOf(prober: Prober): RunReleaseProbes {
  return async ({ service, cases }) => {
    const { catalog, runner } = prober.internals;
    const selected = catalog.boundTo(service).filter((probe) => cases === undefined || cases.includes(probe.name));
    const runId = randomUUID();
    const records = await Promise.all(selected.flatMap((probe) => probe.targets.map((target) => runner.run(probe, target, { runId }))));
    return records.map((record) => record.result);
  };
}

/** A service the probes hit: /healthy answers 200, /unhealthy 503. */
export async function startTargetServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const isHealthy = request.url === "/healthy";
    response.writeHead(isHealthy ? 200 : 503, { "content-type": "text/plain" }).end(isHealthy ? "ok" : "database unavailable");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Minute rows of one instance: `calls` calls of which `errors` failed, each taking `latencyMs`. */
export function instanceMinute(service: string, instance: string, timeMs: number, calls: number, errors: number, latencyMs: number): MinuteMetrics {
  const histogram = newDenseHistogram();
  for (let call = 0; call < calls; call++) recordLatency(histogram, latencyMs);
  return {
    scope: "instance",
    service,
    name: instance,
    detectPoint: "",
    component: "",
    timeMs,
    calls,
    errors,
    latencySumMs: calls * latencyMs,
    apdexSatisfied: latencyMs <= 500 ? calls : 0,
    apdexTolerating: 0,
    bytesIn: 0,
    bytesOut: 0,
    histogram: toSparse(histogram),
  };
}

export interface GateHarness {
  prober: ProberHarness;
  gates: Gates;
  app: FastifyInstance;
  config: GateConfig;
  stop(): Promise<void>;
}

/** The prober (real http kind, DuckDB), the gates over the same storage, and the app with token auth. */
export async function gateHarness(config: Partial<GateConfig> = {}, now?: () => number): Promise<GateHarness> {
  const prober = await proberHarness(createProbeKindRegistry().lookup);
  await prober.start();
  const gateConfig: GateConfig = { ...gateSection.schema.parse({}), ...config };
  const registry = new Registry();
  const gates = createGates({ config: gateConfig, dataDir: prober.dataDir, reader: prober.storage, runReleaseProbes: releaseProbesOf(prober.prober), registry, logger: silentLogger, ...(now ? { now } : {}) });
  for (const component of gates.components) await component.start();
  const auth = createApiAuth(
    {
      tokens: [
        { name: "ci-pipeline", sha256: sha256Hex(TOKENS.ci), scopes: ["gate:check"] },
        { name: "release-manager", sha256: sha256Hex(TOKENS.admin), scopes: ["admin"] },
        { name: "prober-bot", sha256: sha256Hex(TOKENS.probesOnly), scopes: ["probes:write"] },
      ],
      readApisOpen: true,
      protectIngest: false,
    },
    silentLogger,
  );
  const app = buildApp({ logger: silentLogger, registry, readinessChecks: [], bodyLimitBytes: 1024 * 1024, routes: [...gates.routes, ...prober.prober.routes], authorize: auth.authorize });
  return {
    prober,
    gates,
    app,
    config: gateConfig,
    async stop() {
      await app.close();
      for (const component of [...gates.components].reverse()) await component.stop();
      const { dataDir } = prober;
      await prober.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Three canaries, each at v2 next to a stable v1, each with a probe case and a gate:
 * reviews (healthy: probes pass, v2 as good as v1), ratings (unhealthy: probe gets 503, v2 fails 15 % of
 * calls and is slow), details (v2 has no traffic yet; its probe passes).
 */
export async function seedCanaries(harness: GateHarness, targetUrl: string, nowMs: number): Promise<void> {
  const { cases } = harness.prober.prober.internals;
  const probe = (name: string, service: string, path: string) => cases.put(name, { name, kind: "http", service, targets: [`${targetUrl}${path}`], schedule: { every: "1h" }, timeout: "2s" });
  await probe("reviews-health", "reviews.default", "/healthy");
  await probe("ratings-health", "ratings.default", "/unhealthy");
  await probe("details-health", "details.default", "/healthy");
  await writeCanaryTraffic(harness, nowMs);
  const slo = { minSla: 99.5, maxP99Ms: 300, maxErrorRateIncrease: 1 };
  for (const service of ["reviews", "ratings", "details"]) {
    await harness.gates.internals.catalog.put(`${service}-canary`, { service: `${service}.default`, version: "v2", stableVersion: "v1", window: "5m", minCalls: 50, slo });
  }
}

/** Two minutes before `nowMs`: the instances' minute metrics and their entity rows (with the version attribute). */
export async function writeCanaryTraffic(harness: GateHarness, nowMs: number): Promise<void> {
  const minute = Math.floor(nowMs / 60_000) * 60_000 - 120_000;
  const instances = [
    { service: "reviews.default", pod: "reviews-v1-d66dcfdc5-kh6v7.default", version: "v1", calls: 900, errors: 2, latencyMs: 40 },
    { service: "reviews.default", pod: "reviews-v2-7b8f6d9c5-qz2lp.default", version: "v2", calls: 300, errors: 0, latencyMs: 45 },
    { service: "ratings.default", pod: "ratings-v1-85cc46b6d4-tn9vj.default", version: "v1", calls: 900, errors: 1, latencyMs: 10 },
    { service: "ratings.default", pod: "ratings-v2-5c9f4b7d8-x8mwn.default", version: "v2", calls: 200, errors: 30, latencyMs: 900 },
    { service: "details.default", pod: "details-v1-6997d94bb9-7gcjp.default", version: "v1", calls: 900, errors: 0, latencyMs: 5 },
  ];
  await harness.prober.storage.writeEntities(
    [...instances, { service: "details.default", pod: "details-v2-9c8d7e6f5-a1b2c.default", version: "v2" }].map((instance) => ({
      kind: "instance",
      service: instance.service,
      name: instance.pod,
      layer: "MESH",
      attributes: { version: instance.version, pod: instance.pod.replace(/\.default$/, ""), namespace: "default" },
      lastSeenMs: nowMs,
    })),
  );
  await harness.prober.storage.writeMetrics(instances.map((instance) => instanceMinute(instance.service, instance.pod, minute, instance.calls, instance.errors, instance.latencyMs)));
}
