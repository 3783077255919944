import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../core/http/app.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { overviewRoutes } from "../../dashboards/overview/overview-routes.ts";
import uplotPackage from "uplot/package.json" with { type: "json" };

const VENDOR = `/ui/vendor/uplot-${uplotPackage.version}`;

void describe("overview page routes", () => {
  let app: FastifyInstance;
  before(async () => {
    app = buildApp({
      logger: createLogger({ level: "warn" }),
      registry: createMetricsRegistry({ version: "test", collectDefaults: false }),
      readinessChecks: [],
      bodyLimitBytes: 1024,
      routes: [overviewRoutes()],
    });
    await app.ready();
  });
  after(() => app.close());

  void it("serves the page at / with an import map for uPlot that its CSP allows by hash, and nothing else inline", async () => {
    const reply = await app.inject({ url: "/" });
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(reply.headers["cache-control"], "no-cache");
    const importMap = /<script type="importmap">(.*?)<\/script>/.exec(reply.body)?.[1];
    assert.ok(importMap, "the page carries an import map");
    assert.deepEqual(JSON.parse(importMap), { imports: { uplot: `.${VENDOR}/uPlot.esm.js` } });
    const hash = createHash("sha256").update(importMap).digest("base64");
    const policy = String(reply.headers["content-security-policy"]);
    assert.match(policy, new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/=]/g, "\\$&")}'`));
    assert.match(policy, /frame-ancestors 'none'/);
    assert.equal((reply.body.match(/<script/g) ?? []).length, 2, "the import map and the module entry, no other scripts");
    assert.match(reply.body, new RegExp(`href="\\.${VENDOR}/uPlot\\.min\\.css"`));
  });

  void it("answers a matching If-None-Match with 304 and no body, and a stale one with the file", async () => {
    const first = await app.inject({ url: "/ui/app.js" });
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(first.headers["x-content-type-options"], "nosniff");
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    const revalidated = await app.inject({ url: "/ui/app.js", headers: { "if-none-match": etag } });
    assert.equal(revalidated.statusCode, 304);
    assert.equal(revalidated.body, "");
    const stale = await app.inject({ url: "/ui/app.js", headers: { "if-none-match": '"older"' } });
    assert.equal(stale.statusCode, 200);
    assert.equal(stale.body, first.body);
  });

  void it("serves uPlot from node_modules under its version, cacheable for good", async () => {
    for (const [file, type] of [["uPlot.esm.js", "text/javascript; charset=utf-8"], ["uPlot.min.css", "text/css; charset=utf-8"]] as const) {
      const reply = await app.inject({ url: `${VENDOR}/${file}` });
      assert.equal(reply.statusCode, 200, file);
      assert.equal(reply.headers["content-type"], type);
      assert.equal(reply.headers["cache-control"], "public, max-age=31536000, immutable");
    }
    const esm = await app.inject({ url: `${VENDOR}/uPlot.esm.js` });
    assert.match(esm.body, /export \{ uPlot as default \}|export default uPlot/);
  });

  void it("answers 404 for unknown files, other uPlot versions and paths that try to leave the folder", async () => {
    for (const url of ["/ui/missing.js", "/ui/..%2F..%2Fpackage.json", "/ui/%2E%2E%2Foverview-routes.ts", "/ui/vendor/uplot-0.0.1/uPlot.esm.js", `${VENDOR}/uPlot.cjs.js`, "/ui/tsconfig.json"]) {
      const reply = await app.inject({ url });
      assert.equal(reply.statusCode, 404, url);
      // A file name the page lacks is MS_NOT_FOUND; a path no route matches (another uPlot version) MS_ROUTE_NOT_FOUND.
      assert.match(reply.json<{ error: { code: string } }>().error.code, /^MS_(ROUTE_)?NOT_FOUND$/, url);
    }
  });

  void it("answers HEAD like GET without a body", async () => {
    const reply = await app.inject({ url: "/ui/overview.css", method: "HEAD" });
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.headers["content-type"], "text/css; charset=utf-8");
    assert.equal(reply.body, "");
  });
});
