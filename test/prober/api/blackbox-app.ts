import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { buildApp } from "../../../core/http/app.ts";
import type { ProberConfig } from "../../../prober/config.ts";
import type { KindLookup } from "../../../prober/case.ts";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { lookup, proberHarness, silentLogger, type ProberHarness } from "../helpers.ts";
import { parsePromText, type PromSample } from "./prom-text.ts";

/** meshsight's HTTP app with a started prober, for `/probe` tests; the prober's warnings land in `logLines`. */
export interface BlackboxApp {
  app: FastifyInstance;
  harness: ProberHarness;
  logLines: string[];
  stop(): Promise<void>;
}

export async function startBlackboxApp(kinds: KindLookup, overrides: Partial<ProberConfig>): Promise<BlackboxApp> {
  const logLines: string[] = [];
  const logger = pino({ level: "warn" }, new Writable({ write(chunk: Buffer, _encoding, done) { logLines.push(chunk.toString("utf8")); done(); } }));
  const harness = await proberHarness(kinds, overrides, undefined, logger);
  await harness.start();
  const app = buildApp({ logger: silentLogger, registry: harness.registry, readinessChecks: [], bodyLimitBytes: 1_000_000, routes: harness.prober.routes });
  await app.ready();
  return {
    app,
    harness,
    logLines,
    async stop() {
      await app.close();
      await harness.stop();
    },
  };
}

/** An HTTP server on loopback and meshsight reading a modules file of http modules, for `/probe` tests. */
export interface BlackboxHttpFixture {
  started: BlackboxApp;
  /** `GET /probe?module=<module>&target=<the server><path>`, which must answer 200; its samples. */
  probe(module: string, path: string): Promise<PromSample[]>;
  stop(): Promise<void>;
}

export async function startBlackboxHttpFixture(server: Server, modulesYaml: string): Promise<BlackboxHttpFixture> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = join(tmpdir(), `meshsight-blackbox-http-${process.pid}-${origin.replace(/\W/g, "-")}.yml`);
  await writeFile(file, modulesYaml);
  const started = await startBlackboxApp(lookup(httpKind), { blackboxConfigFile: file });
  return {
    started,
    async probe(module, path) {
      const response = await started.app.inject({ method: "GET", url: `/probe?module=${module}&target=${encodeURIComponent(origin + path)}` });
      assert.equal(response.statusCode, 200, response.body);
      return parsePromText(response.body);
    },
    async stop() {
      await started.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(file, { force: true });
    },
  };
}
