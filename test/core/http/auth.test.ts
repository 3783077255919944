import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import pino from "pino";
import { buildApp } from "../../../core/http/app.ts";
import { createApiAuth, sha256Hex, type ApiAuthOptions, type RouteScope } from "../../../core/http/auth.ts";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";

const apps: FastifyInstance[] = [];
after(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

/** Stand-ins for the project's routes: the real paths and scopes, each answering who called. */
const projectRoutes: FastifyPluginAsync = async (app) => {
  const whoCalled = async (request: { principal: string }) => ({ principal: request.principal });
  const needs = (scope: RouteScope) => ({ config: { scope } });
  app.get("/api/v1/services", needs("read"), whoCalled);
  app.put("/api/v1/probes/:name", needs("probes:write"), whoCalled);
  app.post("/api/v1/probes/:name/run", needs("probes:run"), whoCalled);
  app.post("/api/v1/events", needs("probes:run"), whoCalled);
  app.post("/api/v1/gates/:name/check", needs("gate:check"), whoCalled);
  app.get("/api/v1/gates/:name/analysis", needs("gate:check"), whoCalled);
  app.put("/api/v1/gates/:name", needs("admin"), whoCalled);
  app.post("/api/v1/gates/:name/override", needs("admin"), whoCalled);
  app.post("/api/v1/silences", needs("alerts:write"), whoCalled);
  app.post("/api/v1/logs", needs("ingest"), whoCalled);
  app.post("/api/v1/kuberhealthy/check", needs("open"), whoCalled);
  // New routes whose author forgot the scope.
  app.post("/api/v1/brand-new-thing", whoCalled);
  app.get("/api/v1/brand-new-report", whoCalled);
};

const TOKENS = { ci: "ci-token-1f0c", ops: "ops-token-77aa", scraper: "scraper-token-4d2e", root: "root-token-e3b0" };

function appWith(options: Partial<ApiAuthOptions> = {}, logger = createLogger({ level: "silent" })): FastifyInstance {
  const auth = createApiAuth(
    {
      tokens: [
        { name: "ci", sha256: sha256Hex(TOKENS.ci), scopes: ["gate:check"] },
        { name: "ops", sha256: sha256Hex(TOKENS.ops).toUpperCase(), scopes: ["probes:write", "alerts:write"] },
        { name: "scraper", sha256: sha256Hex(TOKENS.scraper), scopes: ["probes:run"] },
        { name: "root", sha256: sha256Hex(TOKENS.root), scopes: ["admin"] },
      ],
      readApisOpen: true,
      protectIngest: false,
      ...options,
    },
    logger,
  );
  const app = buildApp({ logger, registry: createMetricsRegistry({ version: "test" }), readinessChecks: [], bodyLimitBytes: 1024, routes: [projectRoutes], authorize: auth.authorize });
  apps.push(app);
  return app;
}

async function call(app: FastifyInstance, method: "GET" | "POST" | "PUT", url: string, token?: string) {
  const response = await app.inject({ method, url, ...(method === "GET" ? {} : { payload: {} }), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: response.json<{ principal?: string; error?: { code: string; message: string } }>(), headers: response.headers };
}

void describe("API tokens and scopes", () => {
  const app = appWith();

  void it("refuses a mutating call without a token: 401 with a Bearer challenge", async () => {
    const reply = await call(app, "POST", "/api/v1/gates/reviews/check");
    assert.equal(reply.status, 401);
    assert.equal(reply.headers["www-authenticate"], "Bearer");
    assert.equal(reply.body.error?.code, "MS_UNAUTHORIZED");
  });

  void it("refuses a wrong token with 401, whatever its length or alphabet", async () => {
    // Raw tokens of different lengths would make timingSafeEqual throw; hashing first makes every compare 32 vs 32 bytes.
    for (const wrong of ["x", "", TOKENS.ci.slice(0, -1), TOKENS.ci + "0", "é".repeat(5_000)]) {
      const reply = await call(app, "POST", "/api/v1/gates/reviews/check", wrong);
      assert.equal(reply.status, 401, JSON.stringify(wrong.slice(0, 20)));
    }
  });

  void it("refuses a valid token without the route's scope with 403 naming the scope", async () => {
    const reply = await call(app, "PUT", "/api/v1/probes/checkout", TOKENS.ci);
    assert.equal(reply.status, 403);
    assert.equal(reply.body.error?.code, "MS_FORBIDDEN");
    assert.match(reply.body.error?.message ?? "", /token ci lacks the scope probes:write/);
    assert.equal((await call(app, "POST", "/api/v1/gates/reviews/override", TOKENS.ci)).status, 403, "overrides are admin-only");
    assert.equal((await call(app, "POST", "/api/v1/gates/reviews/check", TOKENS.ops)).status, 403);
  });

  void it("lets each token through where its scope reaches, and routes see the token's name", async () => {
    assert.deepEqual((await call(app, "POST", "/api/v1/gates/reviews/check", TOKENS.ci)).body, { principal: "ci" });
    assert.equal((await call(app, "GET", "/api/v1/gates/reviews/analysis", TOKENS.ci)).status, 200);
    assert.deepEqual((await call(app, "POST", "/api/v1/events", TOKENS.ops)).body, { principal: "ops" }, "an upper-case hex hash works too");
    assert.equal((await call(app, "POST", "/api/v1/probes/checkout/run", TOKENS.ops)).status, 200);
    assert.equal((await call(app, "POST", "/api/v1/silences", TOKENS.ops)).status, 200);
    for (const url of ["/api/v1/gates/reviews/check", "/api/v1/gates/reviews/override", "/api/v1/events", "/api/v1/silences"]) {
      assert.deepEqual((await call(app, "POST", url, TOKENS.root)).body, { principal: "root" }, `admin reaches ${url}`);
    }
  });

  void it("lets a probes:run token run probes but not define them; probes:write also runs them", async () => {
    assert.deepEqual((await call(app, "POST", "/api/v1/probes/checkout/run", TOKENS.scraper)).body, { principal: "scraper" });
    assert.equal((await call(app, "POST", "/api/v1/events", TOKENS.scraper)).status, 200);
    const define = await call(app, "PUT", "/api/v1/probes/checkout", TOKENS.scraper);
    assert.equal(define.status, 403);
    assert.match(define.body.error?.message ?? "", /token scraper lacks the scope probes:write/);
    assert.equal((await call(app, "POST", "/api/v1/probes/checkout/run", TOKENS.ci)).status, 403, "gate:check does not run probes");
    assert.match((await call(app, "POST", "/api/v1/events", TOKENS.ci)).body.error?.message ?? "", /lacks the scope probes:run/);
  });

  void it("takes the Bearer scheme name in any case (RFC 6750)", async () => {
    const response = await app.inject({ method: "POST", url: "/api/v1/gates/a/check", payload: {}, headers: { authorization: `bearer ${TOKENS.ci}` } });
    assert.equal(response.statusCode, 200);
  });

  void it("keeps reads, Kuberhealthy reports and ingest open by default", async () => {
    assert.deepEqual((await call(app, "GET", "/api/v1/services")).body, { principal: "anonymous" });
    assert.equal((await call(app, "POST", "/api/v1/kuberhealthy/check")).status, 200);
    assert.equal((await call(app, "POST", "/api/v1/logs")).status, 200);
  });

  void it("refuses a new route that declares no scope to all but admin, reads included (fails closed)", async () => {
    for (const [method, url] of [["POST", "/api/v1/brand-new-thing"], ["GET", "/api/v1/brand-new-report"]] as const) {
      assert.equal((await call(app, method, url)).status, 401, `${method} ${url} without a token`);
      assert.equal((await call(app, method, url, TOKENS.ops)).status, 403, `${method} ${url} with a non-admin token`);
      assert.match((await call(app, method, url, TOKENS.ci)).body.error?.message ?? "", /lacks the scope admin/);
      assert.deepEqual((await call(app, method, url, TOKENS.root)).body, { principal: "root" });
    }
  });

  void it("answers a path no route has with 404 to readers, and refuses other methods there", async () => {
    assert.equal((await call(app, "GET", "/api/v1/no-such-thing")).status, 404);
    assert.equal((await call(app, "POST", "/api/v1/no-such-thing")).status, 401);
  });

  void it("keeps /healthz, /readyz and /metrics open, and HEAD follows its GET", async () => {
    for (const url of ["/healthz", "/readyz", "/metrics"]) assert.equal((await app.inject({ method: "GET", url })).statusCode, 200, url);
    assert.equal((await app.inject({ method: "HEAD", url: "/api/v1/gates/a/analysis" })).statusCode, 401);
    assert.equal((await app.inject({ method: "HEAD", url: "/api/v1/gates/a/analysis", headers: { authorization: `Bearer ${TOKENS.ci}` } })).statusCode, 200);
  });

  void it("closes reads and ingest when configured", async () => {
    const closed = appWith({ readApisOpen: false, protectIngest: true });
    assert.equal((await call(closed, "GET", "/api/v1/services")).status, 401);
    assert.equal((await call(closed, "GET", "/api/v1/services", TOKENS.ci)).status, 200, "any valid token reads");
    assert.equal((await call(closed, "POST", "/api/v1/logs", TOKENS.ci)).status, 403);
    assert.equal((await call(closed, "POST", "/api/v1/logs", TOKENS.root)).status, 200);
  });
});

void describe("API without tokens", () => {
  void it("stays open and warns once at start", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    const auth = createApiAuth({ tokens: [], readApisOpen: false, protectIngest: true }, logger);
    assert.equal(auth.isOpen, true);
    const app = buildApp({ logger, registry: createMetricsRegistry({ version: "test" }), readinessChecks: [], bodyLimitBytes: 1024, routes: [projectRoutes], authorize: auth.authorize });
    apps.push(app);
    assert.equal((await call(app, "PUT", "/api/v1/gates/reviews")).status, 200);
    assert.equal((await call(app, "POST", "/api/v1/gates/reviews/override")).status, 200);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /no API tokens configured/);
  });

  void it("refuses a token configured with the secret instead of its hash", () => {
    assert.throws(() => createApiAuth({ tokens: [{ name: "oops", sha256: "my-secret", scopes: ["admin"] }], readApisOpen: true, protectIngest: false }, createLogger({ level: "silent" })), /64 hex digits/);
  });
});
