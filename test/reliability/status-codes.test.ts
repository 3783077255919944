/**
 * Requests the API cannot serve get the status that tells the client what to do (docs/errors.md): 400
 * naming a parameter given twice, 503 with Retry-After while storage cannot be reached, and entity
 * routes take names as long as Kubernetes allows.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { readApiRoutes } from "../../collector/query/read-api-routes.ts";
import { buildApp } from "../../core/http/app.ts";
import type { ErrorBody } from "../../core/http/errors.ts";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "../../core/storage/port.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { freshDatabaseName, rawClient } from "../core/storage/clickhouse/helpers.ts";
import { lookup, proberHarness, RecordingKind } from "../prober/helpers.ts";
import { useClickHouse } from "../services/index.ts";
import { startClickHouseRelay } from "../support/clickhouse-relay.ts";
import { RETENTION } from "./storage-backends.ts";

const logger = pino({ level: "silent" });

function readApi(storage: StorageAdapter): FastifyInstance {
  return buildApp({
    logger,
    registry: createMetricsRegistry({ version: "test", collectDefaults: false }),
    readinessChecks: [],
    bodyLimitBytes: 1 << 20,
    routes: readApiRoutes(storage),
  });
}

void describe("status codes of the read API", () => {
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
  let api: FastifyInstance;
  before(async () => {
    await storage.start();
    api = readApi(storage);
  });
  after(async () => {
    await api.close();
    await storage.close();
  });

  void it("answers 400 naming a query parameter given more than once, on every route the issue names", async () => {
    for (const [url, name] of [
      ["/api/v1/logs?service=a&service=b", "service"],
      ["/api/v1/traces?service=a&service=b&limit=5", "service"],
      ["/api/v1/traces?attr.http.method=GET&attr.http.method=POST", "attr.http.method"],
      ["/api/v2/spans?serviceName=a&serviceName=b", "serviceName"],
      ["/api/v1/services?from=1&from=2", "from"],
    ] as const) {
      const response = await api.inject({ method: "GET", url });
      assert.equal(response.statusCode, 400, `${url}: ${response.body}`);
      const { error } = response.json<ErrorBody>();
      assert.equal(error.code, "MS_INVALID_PARAMETER", url);
      assert.equal(error.message, `invalid parameter ${name}: is given 2 times; give it once`);
    }
  });

  void it("answers 400 for a repeated parameter of probe results too", async () => {
    const harness = await proberHarness(lookup(new RecordingKind("test")));
    const app = buildApp({ logger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: harness.prober.routes });
    try {
      const response = await app.inject({ method: "GET", url: "/api/v1/probes/web/results?status=failure&status=success" });
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.json<ErrorBody>().error.message, /^invalid parameter status: is given 2 times/);
    } finally {
      await app.close();
      await harness.stop();
    }
  });

  void it("serves entity routes for names of 253 characters, ASCII or not", async () => {
    for (const name of [`${"s".repeat(243)}.namespace`, "ü".repeat(253), "𝔰".repeat(253)]) {
      assert.equal(name.length >= 253 && [...name].length === 253, true);
      for (const route of ["instances", "endpoints"]) {
        const response = await api.inject({ method: "GET", url: `/api/v1/services/${encodeURIComponent(name)}/${route}` });
        assert.equal(response.statusCode, 200, `${route} of a ${[...name].length}-character name: ${response.body.slice(0, 200)}`);
        assert.deepEqual(response.json(), []);
      }
    }
  });
});

void describe("read API with ClickHouse unreachable", () => {
  void it("answers 503 MS_STORAGE_UNAVAILABLE with Retry-After, and 200 again once ClickHouse is back", async () => {
    const server = await useClickHouse();
    const database = freshDatabaseName("ms_status");
    let relay = await startClickHouseRelay(server.url);
    const storage = new ClickHouseStorage({ url: relay.url, database, retention: RETENTION, logger, requestTimeoutMs: 5_000 });
    await storage.start();
    const api = readApi(storage);
    try {
      const urls = ["/api/v1/services", "/api/v1/logs?service=a", "/api/v1/traces?service=a", "/api/v1/services/a.default/instances", "/api/v2/services"];
      for (const url of urls) assert.equal((await api.inject({ method: "GET", url })).statusCode, 200, url);

      await relay.cut();
      for (const url of urls) {
        const response = await api.inject({ method: "GET", url });
        assert.equal(response.statusCode, 503, `${url}: ${response.body}`);
        assert.equal(response.headers["retry-after"], "1", url);
        assert.equal(response.json<ErrorBody>().error.code, "MS_STORAGE_UNAVAILABLE", url);
      }
      // Jaeger's API keeps its own error envelope (docs/traces.md), with the same status and Retry-After.
      const jaeger = await api.inject({ method: "GET", url: "/api/services" });
      assert.equal(jaeger.statusCode, 503, jaeger.body);
      assert.equal(jaeger.headers["retry-after"], "1");
      const jaegerBody = JSON.parse(jaeger.body) as { data: null; errors: { code: number; msg: string }[] };
      assert.equal(jaegerBody.data, null);
      assert.deepEqual(jaegerBody.errors.map((error) => error.code), [503]);
      assert.match(jaegerBody.errors[0]?.msg ?? "", /unavailable|unreachable/i);

      // Back on the same address: the same adapter serves again, nothing to restart.
      relay = await startClickHouseRelay(server.url, relay.port);
      for (const url of urls) assert.equal((await api.inject({ method: "GET", url })).statusCode, 200, url);
    } finally {
      await api.close();
      await storage.close();
      await relay.cut();
      const admin = rawClient(server.url);
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await admin.close();
      await server.stop();
    }
  });
});
