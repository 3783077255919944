import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { buildApp } from "../../../core/http/app.ts";
import type { ProberConfig } from "../../../prober/config.ts";
import type { KindLookup } from "../../../prober/case.ts";
import { proberHarness, silentLogger, type ProberHarness } from "../helpers.ts";

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
