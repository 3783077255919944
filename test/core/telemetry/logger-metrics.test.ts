import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";

function capturingLogger(level: "info" | "warn") {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

void describe("createLogger", () => {
  void it("writes JSON lines at or above the configured level", () => {
    const { logger, lines } = capturingLogger("warn");
    logger.info("hidden");
    logger.warn({ port: 1 }, "shown");
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.msg, "shown");
    assert.equal(lines[0]?.service, "meshsight");
    assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT/);
  });

  void it("redacts credentials in logged request headers", () => {
    const { logger, lines } = capturingLogger("info");
    logger.info({ req: { headers: { authorization: "Bearer s3cret", cookie: "a=b" } } }, "request");
    const headers = (lines[0]?.req as { headers: Record<string, string> }).headers;
    assert.equal(headers.authorization, "***");
    assert.equal(headers.cookie, "***");
  });
});

void describe("createMetricsRegistry", () => {
  void it("gives each caller its own registry, so two apps in one process do not collide", async () => {
    const first = createMetricsRegistry({ version: "1.2.3" });
    const second = createMetricsRegistry({ version: "1.2.3", collectDefaults: false });
    assert.notEqual(first, second);
    assert.match(await first.metrics(), /^nodejs_eventloop_lag_seconds /m);
    const withoutDefaults = await second.metrics();
    assert.doesNotMatch(withoutDefaults, /nodejs_/);
    assert.match(withoutDefaults, /^meshsight_build_info\{version="1\.2\.3",node_version="v[\d.]+"\} 1$/m);
  });
});
