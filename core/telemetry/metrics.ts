import { collectDefaultMetrics, Gauge, Registry } from "prom-client";

export interface MetricsRegistryOptions {
  version: string;
  /** Node.js process metrics (CPU, memory, event loop lag, GC); off in unit tests that count series. */
  collectDefaults?: boolean;
}

/**
 * One Registry per process, created here and passed down: prom-client's global default registry would
 * make two apps in one test process collide on metric names.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry });
  const buildInfo = new Gauge({
    name: "meshsight_build_info",
    help: "Always 1; labels say which meshsight version and Node.js runtime this process runs.",
    labelNames: ["version", "node_version"],
    registers: [registry],
  });
  buildInfo.set({ version: options.version, node_version: process.version }, 1);
  return registry;
}
