/**
 * The only entry point and the composition root: parse the command line, load config, build the
 * components, hand them to the lifecycle. It alone reads process.argv/process.env and calls process.exit.
 * Exit codes: 0 clean shutdown, 1 failure to start or stop, 2 invalid config or command line.
 */
import { join } from "node:path";
import packageJson from "./package.json" with { type: "json" };
import { ConfigError, redactUrlPassword } from "./core/config/config-error.ts";
import type { CoreConfig } from "./core/config/core-sections.ts";
import { formatHelp } from "./core/config/describe.ts";
import { loadConfig } from "./core/config/load.ts";
import { buildApp } from "./core/http/app.ts";
import { httpServerComponent } from "./core/http/server-component.ts";
import { backingServiceComponent, Lifecycle, shutdownOnSignals, StartupError, type Component } from "./core/lifecycle.ts";
import { BullMqQueue } from "./core/queue/bullmq.ts";
import { InlineQueue } from "./core/queue/inline.ts";
import type { JobQueue } from "./core/queue/port.ts";
import { ClickHouseStorage } from "./core/storage/clickhouse/clickhouse-storage.ts";
import { DuckDbStorage } from "./core/storage/duckdb/duckdb-storage.ts";
import type { StorageAdapter } from "./core/storage/port.ts";
import { createLogger } from "./core/telemetry/logger.ts";
import { createMetricsRegistry } from "./core/telemetry/metrics.ts";
import { createSelfTracing } from "./core/telemetry/tracing.ts";
import type { Logger } from "pino";

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** Creating the ClickHouse schema on a cold server takes a while; a refused connection fails at once anyway. */
const STORAGE_CONNECT_TIMEOUT_MS = 60_000;
const QUEUE_CONNECT_TIMEOUT_MS = 10_000;

function fail(message: string, exitCode: number): never {
  process.stderr.write(`meshsight: ${message}\n`);
  process.exit(exitCode);
}

function storageComponent(config: CoreConfig, logger: Logger): { storage: StorageAdapter; component: Component } {
  const { clickhouse, dataDir, retention } = config.storage;
  if (clickhouse.url !== undefined) {
    const storage = new ClickHouseStorage({ url: clickhouse.url, database: clickhouse.database, retention, logger });
    const target = `ClickHouse at ${redactUrlPassword(clickhouse.url)}`;
    return { storage, component: storageAsComponent(storage, target) };
  }
  const path = join(dataDir, "meshsight.duckdb");
  const storage = new DuckDbStorage({ path, retention, logger });
  return { storage, component: storageAsComponent(storage, `DuckDB file ${path}`) };
}

function storageAsComponent(storage: StorageAdapter, target: string): Component {
  return backingServiceComponent({
    name: "storage",
    target,
    connect: () => storage.start(),
    isReachable: () => storage.ping(),
    close: () => storage.close(),
    connectTimeoutMs: STORAGE_CONNECT_TIMEOUT_MS,
  });
}

function queueComponent(config: CoreConfig, logger: Logger): { queue: JobQueue; component: Component } {
  const { redisUrl, prefix, maxPending } = config.queue;
  const queue: JobQueue = redisUrl !== undefined ? new BullMqQueue({ url: redisUrl, prefix, maxPending, logger }) : new InlineQueue({ maxPending, logger });
  const target = redisUrl !== undefined ? `Redis at ${redactUrlPassword(redisUrl)}` : "the in-process queue";
  const component = backingServiceComponent({
    name: "queue",
    target,
    isReachable: () => queue.ping(),
    close: () => queue.close(),
    connectTimeoutMs: QUEUE_CONNECT_TIMEOUT_MS,
  });
  return { queue, component };
}

async function start(config: CoreConfig): Promise<void> {
  const logger = createLogger({ level: config.log.level });
  const registry = createMetricsRegistry({ version: packageJson.version });
  const { storage, component: storageRunner } = storageComponent(config, logger);
  const { queue, component: queueRunner } = queueComponent(config, logger);
  const app = buildApp({
    logger,
    registry,
    bodyLimitBytes: config.http.bodyLimitBytes,
    readinessChecks: [
      { name: "storage", isReady: () => storage.ping() },
      { name: "queue", isReady: () => queue.ping() },
    ],
    // Components (collector receivers and query API, prober, analyzer) add their route plugins here.
    routes: [],
  });
  const tracing = createSelfTracing({
    otlpEndpoint: config.tracing.otlpEndpoint,
    serviceName: config.tracing.serviceName,
    serviceVersion: packageJson.version,
    logger,
  });
  const lifecycle = new Lifecycle({
    // Storage and queue before anything that writes to them; HTTP last so /readyz never lies.
    components: [tracing, storageRunner, queueRunner, httpServerComponent({ app, host: config.server.host, port: config.http.port, logger })],
    logger,
    stopTimeoutMs: config.server.shutdownTimeoutMs,
  });
  shutdownOnSignals({ source: process, shutdown: () => lifecycle.stop(), exit: (code) => process.exit(code), logger });
  try {
    await lifecycle.start();
  } catch (error) {
    if (error instanceof StartupError) fail(error.message, EXIT_FAILURE);
    throw error;
  }
  logger.info({ version: packageJson.version, storage: storage.name, queue: queue.name }, "meshsight started");
}

async function main(args: readonly string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || args.includes("--help") || args.includes("-h")) {
    process.stdout.write(formatHelp());
    if (command === undefined) process.exitCode = EXIT_USAGE;
    return;
  }
  if (command !== "start") fail(`unknown command ${JSON.stringify(command)} (commands: start, help; see meshsight --help)`, EXIT_USAGE);
  let config: CoreConfig;
  try {
    config = loadConfig(rest, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, EXIT_USAGE);
    throw error;
  }
  await start(config);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Only bugs get here; their stack is what a bug report needs.
  process.stderr.write(`meshsight: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(EXIT_FAILURE);
});
