/**
 * Every route of every component declares its scope where it is defined (core/http/auth.ts), and the
 * declared ones are the access docs/gating.md ("Security") promises. Builds the real components, as an
 * all-roles process does, and reads the routes Fastify registers (the kernel's own: test/core/http/auth.test.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Fastify from "fastify";
import pino from "pino";
import { createAnalyzer } from "../../analyzer/analyzer.ts";
import { sections } from "../../cli-sections.ts";
import { createCollector } from "../../collector/collector.ts";
import { loadConfig } from "../../core/config/load.ts";
import { SERVER_ROLES } from "../../core/config/sections/server.ts";
import { InlineQueue } from "../../core/queue/inline.ts";
import { createStateStores } from "../../core/state/state-stores.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { RejectCounter } from "../../core/telemetry/rejects.ts";
import { createDashboards } from "../../dashboards/dashboards.ts";
import { createProber } from "../../prober/prober.ts";

const logger = pino({ level: "silent" });
const dir = mkdtempSync(join(tmpdir(), "meshsight-route-scopes-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface SeenRoute {
  route: string;
  scope: string | undefined;
}

/** Every method and path an all-roles process serves on its API port, with the scope it declares. */
async function allRoutes(): Promise<SeenRoute[]> {
  const config = loadConfig(["--data-dir", dir, "--kubernetes", "off"], {}, sections);
  const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
  const rejects = new RejectCounter(registry, logger);
  const storage = new DuckDbStorage({ path: ":memory:", retention: config.storage.retention, logger, rejects });
  const queue = new InlineQueue({ maxPending: 10, logger });
  const collector = await createCollector({ host: "127.0.0.1", writer: storage, reader: storage, registry, rejects, logger, dataDir: dir }, config);
  const prober = createProber({ dataDir: dir, storage, queue, kubeConfig: null, registry, logger }, config);
  const analyzer = createAnalyzer(
    { roles: new Set(SERVER_ROLES), dataDir: dir, reader: storage, queue, openState: createStateStores({ keyPrefix: "test" }).open, runReleaseProbes: () => Promise.resolve([]), kubeConfig: null, registry, rejects, logger },
    config,
  );
  const seen: SeenRoute[] = [];
  const app = Fastify();
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) if (method !== "HEAD") seen.push({ route: `${method} ${route.url}`, scope: route.config?.scope });
  });
  for (const routes of [...collector.routes, ...prober.routes, ...analyzer.routes, ...createDashboards().routes]) await app.register(routes);
  await app.ready();
  await app.close();
  await queue.close();
  return seen;
}

void describe("route scopes", () => {
  void it("are declared by every route, and mutating ones need what docs/gating.md says", async () => {
    const routes = await allRoutes();
    assert.ok(routes.length > 40, `saw ${routes.length} routes`);
    assert.deepEqual(routes.filter((route) => route.scope === undefined).map((route) => route.route), [], "routes without a scope");
    const notReads = Object.fromEntries(routes.filter((route) => route.scope !== "read").map((route) => [route.route, route.scope]));
    assert.deepEqual(notReads, {
      "POST /api/v1/logs": "ingest",
      "PUT /api/v1/probes/:name": "probes:write",
      "DELETE /api/v1/probes/:name": "probes:write",
      "POST /api/v1/probes/:name/run": "probes:run",
      "POST /api/v1/events": "probes:run",
      "GET /probe": "probes:run",
      "POST /api/v1/silences": "alerts:write",
      "DELETE /api/v1/silences/:id": "alerts:write",
      "PUT /api/v1/alarm-rules": "alerts:write",
      "POST /api/v1/actions/:id/approve": "actions:write",
      "POST /api/v1/guard/reset": "actions:write",
      "PUT /api/v1/gates/:name": "admin",
      "DELETE /api/v1/gates/:name": "admin",
      "POST /api/v1/gates/:name/check": "gate:check",
      "POST /api/v1/gates/:name/override": "admin",
      "DELETE /api/v1/gates/:name/override": "admin",
      "POST /api/v1/gates/:name/flagger": "gate:check",
      "POST /api/v1/flagger/gate": "gate:check",
      "GET /api/v1/gates/:name/analysis": "gate:check",
    });
  });
});
