import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { buildApp } from "../../../core/http/app.ts";
import { httpServerComponent } from "../../../core/http/server-component.ts";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { createMetricsRegistry } from "../../../core/telemetry/metrics.ts";

function appAndLog() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "info", destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  const app = buildApp({ logger, registry: createMetricsRegistry({ version: "test", collectDefaults: false }), readinessChecks: [], bodyLimitBytes: 1024 });
  return { app, logger, lines };
}

void describe("httpServerComponent", () => {
  void it("listens on a free port for port 0, logs it, serves real sockets, and closes on stop", async () => {
    const { app, logger, lines } = appAndLog();
    const server = httpServerComponent({ app, host: "127.0.0.1", port: 0, logger });
    await server.start();
    const port = server.boundPort();
    assert.ok(port !== undefined && port > 0);
    assert.ok(lines.some((line) => line.msg === "listening" && line.port === port && line.url === `http://127.0.0.1:${port}`));
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(response.status, 200);
    await server.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });

  void it("fails start with the address when the port is taken", async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as { port: number }).port)));
    try {
      const { app, logger } = appAndLog();
      await assert.rejects(httpServerComponent({ app, host: "127.0.0.1", port, logger }).start(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use$`));
    } finally {
      blocker.close();
    }
  });
});
