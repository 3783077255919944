/**
 * The only entry point and the composition root: parse the command line, load config, build the
 * components, hand them to the lifecycle. It alone reads process.argv/process.env and calls process.exit.
 * Exit codes: 0 clean shutdown, 1 failure to start or stop, 2 invalid config or command line.
 * Components, storage and queue adapters are imported once the command and config pick them, so a command
 * loads only the packages its path needs (`ingest` loads no HTTP server, gRPC or Redis client).
 */
import { join } from "node:path";
import packageJson from "./package.json" with { type: "json" };
import { sections, type MeshsightConfig } from "./cli-sections.ts";
import { ConfigError, redactUrlPassword } from "./core/config/config-error.ts";
import { formatHelp, formatStartHelp, portSettingsHolding } from "./core/config/describe.ts";
import { didYouMean } from "./core/config/did-you-mean.ts";
import { loadConfig } from "./core/config/load.ts";
import { backingServiceComponent, Lifecycle, shutdownOnSignals, StartupError, type Component } from "./core/lifecycle.ts";
import type { JobQueue } from "./core/queue/port.ts";
import type { ReadinessCheck } from "./core/http/health-routes.ts";
import type { Registry } from "prom-client";
import type { StorageAdapter } from "./core/storage/port.ts";
import { createLogger, resolveLogFormat } from "./core/telemetry/logger.ts";
import { createMetricsRegistry } from "./core/telemetry/metrics.ts";
import { RejectCounter } from "./core/telemetry/rejects.ts";
import type { ServerRole } from "./core/config/sections/server.ts";
import type { FastifyPluginAsync } from "fastify";
import type { Prober } from "./prober/prober.ts";
import { pino, type Logger } from "pino";

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** Creating the ClickHouse schema on a cold server takes a while; a refused connection fails at once anyway. */
const STORAGE_CONNECT_TIMEOUT_MS = 60_000;
const QUEUE_CONNECT_TIMEOUT_MS = 10_000;

function fail(message: string, exitCode: number): never {
  process.stderr.write(`meshsight: ${message}\n`);
  process.exit(exitCode);
}

async function storageComponent(config: MeshsightConfig, logger: Logger, rejects: RejectCounter): Promise<{ storage: StorageAdapter; component: Component }> {
  const { clickhouse, dataDir, retention } = config.storage;
  if (clickhouse.url !== undefined) {
    const { ClickHouseStorage } = await import("./core/storage/clickhouse/clickhouse-storage.ts");
    const cluster = clickhouse.cluster === undefined ? {} : { cluster: { name: clickhouse.cluster, replicated: clickhouse.replicated } };
    const storage = new ClickHouseStorage({ url: clickhouse.url, database: clickhouse.database, retention, logger, rejects, ...cluster });
    const target = `ClickHouse at ${redactUrlPassword(clickhouse.url)}`;
    return { storage, component: storageAsComponent(storage, target) };
  }
  const { DuckDbStorage } = await import("./core/storage/duckdb/duckdb-storage.ts");
  const path = join(dataDir, "meshsight.duckdb");
  const storage = new DuckDbStorage({ path, retention, logger, rejects, memoryLimitMiB: config.storage.duckdbMemoryLimitMiB });
  return { storage, component: storageAsComponent(storage, `DuckDB file ${path}`) };
}

/** Bounds reading ClickHouse replication state for /readyz details and a /metrics scrape. */
const REPLICATION_STATUS_TIMEOUT_MS = 2_000;

/** The storage's /readyz check; on replicated ClickHouse its replication state too, in /readyz details and /metrics. */
async function storageReadiness(storage: StorageAdapter, registry: Registry): Promise<ReadinessCheck> {
  const check: ReadinessCheck = { name: "storage", isReady: () => storage.ping() };
  if (storage.name !== "clickhouse") return check;
  const [{ ClickHouseStorage }, { registerReplicationMetrics, replicationDetails }] = await Promise.all([
    import("./core/storage/clickhouse/clickhouse-storage.ts"),
    import("./core/storage/clickhouse/replication-telemetry.ts"),
  ]);
  if (!(storage instanceof ClickHouseStorage) || !storage.isReplicated) return check;
  registerReplicationMetrics(registry, storage, REPLICATION_STATUS_TIMEOUT_MS);
  return { ...check, details: replicationDetails(storage) };
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

async function queueComponent(config: MeshsightConfig, logger: Logger): Promise<{ queue: JobQueue; component: Component }> {
  const { redisUrl, prefix, maxPending } = config.queue;
  const queue: JobQueue =
    redisUrl !== undefined
      ? new (await import("./core/queue/bullmq.ts")).BullMqQueue({ url: redisUrl, prefix, maxPending, logger })
      : new (await import("./core/queue/inline.ts")).InlineQueue({ maxPending, logger });
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

async function start(config: MeshsightConfig, warnings: readonly string[]): Promise<void> {
  const logger = createLogger({ level: config.log.level, format: resolveLogFormat(config.log.format, process.stdout.isTTY) });
  for (const warning of warnings) logger.warn(warning);
  await routeGrpcLogs(logger);
  const registry = createMetricsRegistry({ version: packageJson.version });
  const rejects = new RejectCounter(registry, logger);
  const { storage, component: storageRunner } = await storageComponent(config, logger, rejects);
  const { queue, component: queueRunner } = await queueComponent(config, logger);
  const [{ createStateStores }, { createApiAuth }, { buildApp }, { httpServerComponent }, { createSelfTracing }, { loadKubeConfigOrWarn }, { createAnalyzer }] = await Promise.all([
    import("./core/state/state-stores.ts"),
    import("./core/http/auth.ts"),
    import("./core/http/app.ts"),
    import("./core/http/server-component.ts"),
    import("./core/telemetry/tracing.ts"),
    import("./core/kubernetes/kube-config.ts"),
    import("./analyzer/analyzer.ts"),
  ]);
  const kubeConfig = await loadKubeConfigOrWarn(logger);
  // Shared state (alerts, silences, guard buckets, gates, overrides, API-defined probe cases) lives in Redis
  // with the queue, where every replica sees it at once, else in files.
  const state = createStateStores({ ...(config.queue.redisUrl === undefined ? {} : { redisUrl: config.queue.redisUrl }), keyPrefix: config.queue.prefix });
  const auth = createApiAuth(config.auth, logger);
  // Roles (docs/configuration.md "Roles"): a component is built only when its role is selected; every process
  // keeps /healthz, /readyz and /metrics. Components add their route plugins and lifecycle parts here.
  const roles = new Set<ServerRole>(config.server.roles);
  const routes: FastifyPluginAsync[] = [];
  const components: Component[] = [];
  if (roles.has("collector")) {
    const { createCollector } = await import("./collector/collector.ts");
    const collector = await createCollector(
      { host: config.server.host, writer: storage, reader: storage, registry, rejects, logger, dataDir: config.storage.dataDir, openState: state.open, authorize: auth.authorize, execArgv: process.execArgv, kubeConfig, summaryIntervalMs: config.log.summaryIntervalSeconds * 1000 },
      config,
    ).catch((error: unknown) => fail(`cannot set up the collector: ${error instanceof Error ? error.message : String(error)}`, EXIT_USAGE));
    // The collector's routes are its ingest endpoints plus its read-only query API over the shared storage.
    components.push(...collector.components);
    routes.push(...collector.routes);
  } else if (roles.has("api")) {
    routes.push(...(await import("./collector/collector.ts")).collectorQueryRoutes(storage));
  }
  let prober: Prober | undefined;
  if (roles.has("prober")) {
    const ownServiceUrls = [config.storage.clickhouse.url, config.queue.redisUrl];
    const { createProber } = await import("./prober/prober.ts");
    prober = createProber({ dataDir: config.storage.dataDir, storage, queue, openState: state.open, kubeConfig, ownServiceUrls, registry, logger }, config);
    components.push(...prober.components);
    routes.push(...prober.routes);
  }
  const analyzer = createAnalyzer(
    {
      roles,
      dataDir: config.storage.dataDir,
      reader: storage,
      queue,
      openState: state.open,
      runReleaseProbes: (request) =>
        prober ? prober.runReleaseProbes(request) : Promise.reject(new Error("release probes run in a meshsight process with the prober role; this one has none")),
      ...(prober ? { recentProbeCaseChanges: prober.recentCaseChanges } : {}),
      kubeConfig,
      registry,
      rejects,
      logger,
    },
    config,
  );
  components.push(...analyzer.components);
  routes.push(...analyzer.routes);
  if (roles.has("api")) routes.push(...(await import("./dashboards/dashboards.ts")).createDashboards().routes);
  const app = buildApp({
    logger,
    registry,
    bodyLimitBytes: config.http.bodyLimitBytes,
    readinessChecks: [
      await storageReadiness(storage, registry),
      { name: "queue", isReady: () => queue.ping() },
    ],
    routes,
    authorize: auth.authorize,
  });
  const tracing = createSelfTracing({
    otlpEndpoint: config.tracing.otlpEndpoint,
    serviceName: config.tracing.serviceName,
    serviceVersion: packageJson.version,
    logger,
  });
  const http = httpServerComponent({ app, host: config.server.host, port: config.http.port, logger });
  const lifecycle = new Lifecycle({
    // Storage and queue before anything that writes to them; HTTP last so /readyz never lies.
    components: [
      tracing,
      storageRunner,
      queueRunner,
      state.component,
      ...components,
      http,
    ],
    logger,
    stopTimeoutMs: config.server.shutdownTimeoutMs,
  });
  shutdownOnSignals({ source: process, shutdown: () => lifecycle.stop(), exit: (code) => process.exit(code), logger });
  try {
    await lifecycle.start();
  } catch (error) {
    if (error instanceof StartupError) fail(withPortHint(error.message, config), EXIT_FAILURE);
    throw error;
  }
  logger.info({ version: packageJson.version, storage: storage.name, queue: queue.name, roles: [...roles] }, "meshsight started");
  if (roles.has("api")) {
    const url = browserUrl(config.server.host, http.boundPort() ?? config.http.port);
    logger.info({ url }, `open ${url}`);
  }
}

/**
 * grpc-js writes its own errors to stderr ("E No address added out of total 1 resolved" beside the
 * receiver's line for a port in use); the receivers report their failures themselves, so its lines are
 * kept for debugging only.
 */
async function routeGrpcLogs(logger: Logger): Promise<void> {
  const debug = (...args: unknown[]): void => logger.debug({ component: "grpc" }, args.map(String).join(" "));
  (await import("@grpc/grpc-js")).setLogger({ error: debug, info: debug, debug });
}

/** A listener's port is taken: name the setting to change, the one thing the operator has to decide. */
function withPortHint(message: string, config: MeshsightConfig): string {
  const port = /:(\d+): address already in use/.exec(message)?.[1];
  const settings = port === undefined ? [] : portSettingsHolding(sections, config, Number(port));
  return settings.length === 0 ? message : `${message}; stop what listens there or change ${settings.join(" or ")}`;
}

/** Where a person on this machine opens the page: a wildcard or loopback bind is reachable as localhost. */
function browserUrl(host: string, port: number): string {
  const isLocal = ["0.0.0.0", "::", "127.0.0.1", "::1", "localhost"].includes(host);
  return `http://${isLocal ? "localhost" : host.includes(":") ? `[${host}]` : host}:${port}/`;
}

async function ingest(args: readonly string[]): Promise<void> {
  const { formatIngestHelp, IngestUsageError, parseIngestArgs, runIngestCommand } = await import("./collector/collector.ts");
  if (asksForHelp(args)) return void process.stdout.write(formatIngestHelp(sections, terminalWidth()));
  let parsed;
  try {
    parsed = parseIngestArgs(args);
  } catch (error) {
    if (error instanceof IngestUsageError) fail(`ingest: ${error.message} (see meshsight ingest --help)`, EXIT_USAGE);
    throw error;
  }
  const { config, warnings } = loadConfigOrExit(parsed.configArgs);
  // stdout carries the totals, so logs go to stderr; and at the default level the lifecycle's info lines
  // would interleave with the progress line, so only warnings show unless debug is asked for.
  const level = config.log.level === "info" ? "warn" : config.log.level;
  const logger = createLogger({ level, format: resolveLogFormat(config.log.format, process.stderr.isTTY), destination: pino.destination({ dest: 2, sync: true }) });
  for (const warning of warnings) logger.warn(warning);
  const registry = createMetricsRegistry({ version: packageJson.version, collectDefaults: false });
  const rejects = new RejectCounter(registry, logger);
  const { storage, component } = await storageComponent(config, logger, rejects);
  const interrupt = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => interrupt.abort());
  try {
    process.exit(
      await runIngestCommand({
        options: parsed.options,
        collectorConfig: config.collector,
        retention: config.storage.retention,
        storage: { writer: storage, reader: storage, component },
        dataDir: config.storage.dataDir,
        registry,
        rejects,
        logger,
        input: process.stdin,
        progress: process.stderr,
        output: process.stdout,
        signal: interrupt.signal,
      }),
    );
  } catch (error) {
    if (error instanceof IngestUsageError) fail(error.message, EXIT_USAGE);
    if (error instanceof StartupError) fail(error.message, EXIT_FAILURE);
    throw error;
  }
}

async function simulate(args: readonly string[]): Promise<void> {
  const { formatSimulateHelp, loadSimulator, parseSimulateArgs, SimulateUsageError } = await import("./collector/collector.ts");
  if (asksForHelp(args)) return void process.stdout.write(formatSimulateHelp(terminalWidth()));
  let options;
  try {
    // The simulator plays into this process's own ALS port unless told otherwise.
    const alsPort = process.env.MESHSIGHT_ALS_PORT ?? "";
    options = parseSimulateArgs(args, `127.0.0.1:${/^[1-9][0-9]*$/.test(alsPort) ? alsPort : "11800"}`);
  } catch (error) {
    if (error instanceof SimulateUsageError) fail(`simulate: ${error.message} (see meshsight simulate --help)`, EXIT_USAGE);
    throw error;
  }
  process.stdout.write(`simulating bookinfo into ${options.target} at ${options.ratePerSecond} requests/s for ${(options.durationMs ?? 0) / 1000} s\n`);
  const { simulateBookinfo, SimulatorConnectError } = await loadSimulator();
  let report;
  try {
    report = await simulateBookinfo(options);
  } catch (error) {
    if (error instanceof SimulatorConnectError) fail(`${error.message} (is meshsight running? Its ALS port is --als-port / MESHSIGHT_ALS_PORT; or pass --target)`, EXIT_FAILURE);
    throw error;
  }
  process.stdout.write(`sent ${report.requests} requests as ${report.entries.http} HTTP and ${report.entries.tcp} TCP entries\n`);
  if (report.streamErrors.length > 0) fail(`streams failed: ${report.streamErrors.join("; ")}`, EXIT_FAILURE);
}

/** The config, and its warnings (deprecated keys, unknown MESHSIGHT_* variables), logged once the logger exists. */
function loadConfigOrExit(args: readonly string[]): { config: MeshsightConfig; warnings: string[] } {
  const warnings: string[] = [];
  try {
    return { config: loadConfig(args, process.env, sections, (message) => warnings.push(message)), warnings };
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, EXIT_USAGE);
    throw error;
  }
}

const COMMANDS = ["start", "ingest", "simulate", "help"];

/** The width help is wrapped to: the terminal's; undefined for a pipe, which has none, or a terminal of unknown size (0). */
function terminalWidth(): number | undefined {
  return process.stdout.columns > 0 ? process.stdout.columns : undefined;
}

function asksForHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

async function main(args: readonly string[]): Promise<void> {
  const [command, ...rest] = args;
  const width = terminalWidth();
  if (command === "--version" || command === "-V") return void process.stdout.write(`meshsight ${packageJson.version}\n`);
  if (command === "simulate") return simulate(rest);
  if (command === "ingest") return ingest(rest);
  if (command === "start" && asksForHelp(rest)) return void process.stdout.write(formatStartHelp(sections, width));
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(formatHelp(width));
    if (command === undefined) process.exitCode = EXIT_USAGE;
    return;
  }
  if (command !== "start") {
    const hint = command.startsWith("-") ? "; flags follow the command: meshsight start --help lists them" : didYouMean(command, COMMANDS);
    fail(`unknown command ${JSON.stringify(command)}${hint} (commands: ${COMMANDS.join(", ")}; see meshsight --help)`, EXIT_USAGE);
  }
  const { config, warnings } = loadConfigOrExit(rest);
  await start(config, warnings);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Only bugs get here; their stack is what a bug report needs.
  process.stderr.write(`meshsight: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(EXIT_FAILURE);
});
