/**
 * Two real `meshsight start` processes on one Redis: a probe case, a gate and an override created through
 * one replica are answered by the other at once (core/state: the Redis adapter of the state port).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliRun, killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort } from "../cli/cli-process.ts";
import { useRedis, type RunningService } from "../services/index.ts";

/** The probe target: healthy, counting requests. */
async function startProbeTarget(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => response.writeHead(200).end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return { server, origin: `http://127.0.0.1:${address.port}` };
}

void describe("shared state across two replicas on one Redis", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-shared-state-"));
  const prefix = `shared${randomBytes(3).toString("hex")}`;
  let redis: RunningService;
  let target: Awaited<ReturnType<typeof startProbeTarget>>;
  const runs: CliRun[] = [];
  const bases: string[] = [];

  const startReplica = async (name: string): Promise<void> => {
    mkdirSync(join(dir, name));
    const run = runCli(["start", "--http-port", "0", "--host", "127.0.0.1"], {
      MESHSIGHT_DATA_DIR: join(dir, name),
      MESHSIGHT_REDIS_URL: redis.url,
      MESHSIGHT_QUEUE_PREFIX: prefix,
      ...RECEIVERS_ON_FREE_PORTS,
      MESHSIGHT_KUBERNETES: "off",
      // The probe target listens on loopback, which the egress policy denies unless allowed.
      MESHSIGHT_PROBE_EGRESS_ALLOW: "127.0.0.0/8",
    });
    runs.push(run);
    bases.push(`http://127.0.0.1:${await waitForHttpPort(run)}`);
  };

  const call = async (replica: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${bases[replica]}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };

  before(async () => {
    redis = await useRedis();
    target = await startProbeTarget();
    await Promise.all([startReplica("a"), startReplica("b")]);
  });

  after(async () => {
    await Promise.all(runs.map((run) => stopWith(run, "SIGTERM").catch(() => killIfRunning(run))));
    await new Promise<void>((resolve) => target.server.close(() => resolve()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it("answers through one replica the probe case, gate and override created through the other", async () => {
    const probe = { kind: "http", service: "web.default", targets: [`${target.origin}/health`], schedule: { every: "1h" }, timeout: "2s", spec: { expectedStatus: [200] } };
    assert.equal((await call(0, "PUT", "/api/v1/probes/web-health", probe)).status, 200);
    const seen = await call(1, "GET", "/api/v1/probes/web-health");
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    assert.equal(seen.body.service, "web.default");

    assert.equal((await call(0, "PUT", "/api/v1/gates/web-canary", { service: "web.default", cases: ["web-health"] })).status, 200);
    const checked = await call(1, "POST", "/api/v1/gates/web-canary/check");
    assert.equal(checked.status, 200, JSON.stringify(checked.body));
    assert.equal(checked.body.verdict, "pass", JSON.stringify(checked.body));

    assert.equal((await call(1, "POST", "/api/v1/gates/web-canary/override", { action: "close", reason: "freeze", ttl: "1h" })).status, 200);
    assert.equal((await call(0, "POST", "/api/v1/gates/web-canary/check")).body.verdict, "fail");
    assert.equal((await call(0, "DELETE", "/api/v1/gates/web-canary/override")).status, 204);
    assert.equal((await call(1, "POST", "/api/v1/gates/web-canary/check")).body.verdict, "pass");

    assert.equal((await call(1, "DELETE", "/api/v1/probes/web-health")).status, 204);
    assert.equal((await call(0, "GET", "/api/v1/probes/web-health")).status, 404);
    assert.equal((await call(1, "DELETE", "/api/v1/gates/web-canary")).status, 204);
    assert.equal((await call(0, "GET", "/api/v1/gates/web-canary")).status, 404);
  });
});
