import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyPluginAsync, InjectOptions } from "fastify";
import { buildApp, type AppDeps } from "../../../core/http/app.ts";
import { createError } from "../../../core/http/errors.ts";
import type { ReadinessCheck } from "../../../core/http/health-routes.ts";
import { QueueFullError } from "../../../core/queue/port.ts";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";

const apps: FastifyInstance[] = [];
after(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

/** A component's routes, as the collector or the query API would bring them. */
const sampleRoutes: FastifyPluginAsync = async (scope) => {
  scope.post("/echo", { schema: { body: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } }, async (request) => request.body);
  scope.get("/boom", async () => {
    throw new Error("secret internal detail");
  });
  scope.get("/full", async () => {
    throw new QueueFullError("probes", 10);
  });
  scope.get("/services/:name", async (request) => {
    throw createError("MS_NOT_FOUND", { kind: "service", name: (request.params as { name: string }).name });
  });
};

function appWith(overrides: Partial<AppDeps> = {}): FastifyInstance {
  const app = buildApp({
    logger: createLogger({ level: "silent" }),
    registry: createMetricsRegistry({ version: "test" }),
    readinessChecks: [],
    bodyLimitBytes: 1024,
    routes: [sampleRoutes],
    ...overrides,
  });
  apps.push(app);
  return app;
}

const up = (name: string): ReadinessCheck => ({ name, isReady: async () => true });

void describe("buildApp probes", () => {
  void it("answers /healthz while alive", async () => {
    const response = await appWith().inject({ method: "GET", url: "/healthz" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: "alive" });
  });

  void it("is ready only when every dependency answers", async () => {
    const response = await appWith({ readinessChecks: [up("storage"), up("queue")] }).inject({ method: "GET", url: "/readyz" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: "ready", checks: { storage: "up", queue: "up" } });
  });

  void it("says which dependency failed, down, throwing or hanging", async () => {
    const app = appWith({
      readinessTimeoutMs: 50,
      readinessChecks: [
        up("storage"),
        { name: "queue", isReady: async () => false },
        { name: "cache", isReady: () => Promise.reject(new Error("refused")) },
        { name: "slow", isReady: () => new Promise<boolean>(() => undefined) },
      ],
    });
    const response = await app.inject({ method: "GET", url: "/readyz" });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers["retry-after"], "1");
    const body = response.json<{ error: { code: string; message: string }; checks: Record<string, string> }>();
    assert.equal(body.error.code, "MS_NOT_READY");
    assert.equal(body.error.message, "not ready: queue is down, cache is error, slow is not answering within 50 ms");
    assert.deepEqual(body.checks, { storage: "up", queue: "down", cache: "error", slow: "timeout" });
  });

  void it("adds what a check reports without being unready as details, also when reading them fails or hangs", async () => {
    const app = appWith({
      readinessTimeoutMs: 50,
      readinessChecks: [
        { ...up("storage"), details: async () => ({ replication: { replicas: 2, activeReplicas: 1 } }) },
        { ...up("queue"), details: async () => undefined },
        { ...up("cache"), details: () => Promise.reject(new Error("no system.replicas")) },
        { ...up("slow"), details: () => new Promise<object>(() => undefined) },
      ],
    });
    const response = await app.inject({ method: "GET", url: "/readyz" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      status: "ready",
      checks: { storage: "up", queue: "up", cache: "up", slow: "up" },
      details: {
        storage: { replication: { replicas: 2, activeReplicas: 1 } },
        cache: { error: "no system.replicas" },
        slow: { error: "details not readable within 50 ms" },
      },
    });
  });

  void it("serves Prometheus text with Node defaults, build info and request metrics", async () => {
    const app = appWith();
    await app.inject({ method: "GET", url: "/healthz" });
    await app.inject({ method: "GET", url: "/no/such/route/123" });
    const response = await app.inject({ method: "GET", url: "/metrics" });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    assert.match(response.body, /^process_cpu_user_seconds_total \d/m);
    assert.match(response.body, /^meshsight_build_info\{version="test",node_version="v[\d.]+"\} 1$/m);
    assert.match(response.body, /^meshsight_http_requests_total\{method="GET",route="\/healthz",status_code="200"\} 1$/m);
    // Unmatched URLs share one label value, so random paths cannot blow up series count.
    assert.match(response.body, /^meshsight_http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1$/m);
  });
});

void describe("buildApp errors", () => {
  async function errorOf(app: FastifyInstance, request: InjectOptions): Promise<{ status: number; code: string; message: string }> {
    const response = await app.inject(request);
    const body = response.json<{ error: { code: string; message: string } }>();
    return { status: response.statusCode, code: body.error.code, message: body.error.message };
  }

  void it("maps an unknown route to MS_ROUTE_NOT_FOUND", async () => {
    assert.deepEqual(await errorOf(appWith(), { method: "GET", url: "/api/v1/nope?x=1" }), {
      status: 404,
      code: "MS_ROUTE_NOT_FOUND",
      message: "no route for GET /api/v1/nope",
    });
  });

  void it("maps Fastify's body and validation errors to MS_ codes", async () => {
    const app = appWith();
    const post = (payload: string, contentType = "application/json"): InjectOptions => ({ method: "POST" as const, url: "/echo", payload, headers: { "content-type": contentType } });
    assert.equal((await app.inject(post('{"name":"a"}'))).statusCode, 200);
    const invalid = await errorOf(app, post('{"other":1}'));
    assert.equal(invalid.code, "MS_VALIDATION_FAILED");
    assert.equal(invalid.status, 400);
    assert.match(invalid.message, /name/);
    assert.equal((await errorOf(app, post("{not json"))).code, "MS_INVALID_JSON_BODY");
    assert.deepEqual(await errorOf(app, post(JSON.stringify({ name: "x".repeat(2000) }))), {
      status: 413,
      code: "MS_BODY_TOO_LARGE",
      message: "request body is larger than the limit of 1024 bytes",
    });
    const unsupported = await errorOf(app, post("name=a", "application/x-www-form-urlencoded"));
    assert.equal(unsupported.status, 415);
    assert.equal(unsupported.code, "MS_UNSUPPORTED_MEDIA_TYPE");
  });

  void it("hides internal details behind MS_INTERNAL with the request id", async () => {
    const error = await errorOf(appWith(), { method: "GET", url: "/boom" });
    assert.equal(error.status, 500);
    assert.equal(error.code, "MS_INTERNAL");
    assert.ok(!error.message.includes("secret"), error.message);
    assert.match(error.message, /request req-\w+/);
  });

  void it("passes registry errors through and maps backpressure to MS_OVERLOADED", async () => {
    const app = appWith();
    assert.deepEqual(await errorOf(app, { method: "GET", url: "/services/reviews.default" }), {
      status: 404,
      code: "MS_NOT_FOUND",
      message: "service reviews.default not found",
    });
    const response = await app.inject({ method: "GET", url: "/full" });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers["retry-after"], "1");
    assert.equal(response.json<{ error: { code: string } }>().error.code, "MS_OVERLOADED");
  });
});

void describe("buildApp bearer-token hook", () => {
  const app = () => appWith({ authorize: async (token) => token === "s3cret" });

  void it("rejects API calls without the right token", async () => {
    const response = await app().inject({ method: "POST", url: "/echo", payload: { name: "a" } });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers["www-authenticate"], "Bearer");
    assert.equal(response.json<{ error: { code: string } }>().error.code, "MS_UNAUTHORIZED");
  });

  void it("accepts the right token and keeps probes and /metrics open", async () => {
    const instance = app();
    const ok = await instance.inject({ method: "POST", url: "/echo", payload: { name: "a" }, headers: { authorization: "Bearer s3cret" } });
    assert.equal(ok.statusCode, 200);
    for (const url of ["/healthz", "/readyz", "/metrics"]) assert.equal((await instance.inject({ method: "GET", url })).statusCode, 200, url);
  });
});

/** Whether a fresh process has loaded Ajv after building (and readying) an app with routes that declare JSON schemas or not. */
function loadsAjvAfterBuilding(routeSchema: string): boolean {
  const app = fileURLToPath(new URL("../../../core/http/app.ts", import.meta.url));
  const script = `
    import { createRequire } from "node:module";
    import { buildApp } from ${JSON.stringify(app)};
    import { createLogger } from ${JSON.stringify(fileURLToPath(new URL("../../../core/telemetry/logger.ts", import.meta.url)))};
    import { createMetricsRegistry } from ${JSON.stringify(fileURLToPath(new URL("../../../core/telemetry/metrics.ts", import.meta.url)))};
    const routes = async (scope) => { scope.post("/echo", { schema: ${routeSchema} }, async (request) => request.body); };
    const app = buildApp({ logger: createLogger({ level: "silent" }), registry: createMetricsRegistry({ version: "test" }), readinessChecks: [], bodyLimitBytes: 1024, routes: [routes] });
    await app.ready();
    await app.close();
    console.log(Object.keys(createRequire(import.meta.url).cache).some((path) => /[\\/]ajv[\\/]/.test(path)));`;
  const output = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  return JSON.parse(output.trim()) as boolean;
}

void describe("buildApp start-up cost", () => {
  void it("loads Fastify's JSON-schema compilers (Ajv) only when a route declares a schema", () => {
    assert.equal(loadsAjvAfterBuilding("undefined"), false);
    assert.equal(loadsAjvAfterBuilding(`{ body: { type: "object", required: ["name"] } }`), true);
  });
});
