/** The real collector, in-process, as end-to-end tests of every component run it: ALS on a free port, flushing every second. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createCollector, type Collector } from "../../collector/collector.ts";
import { collectorSection } from "../../collector/config.ts";
import { receiversSection } from "../../collector/receivers/config.ts";
import { buildBookinfoPods } from "../../collector/simulator/bookinfo-mesh.ts";
import type { StorageAdapter } from "../../core/storage/port.ts";
import { createMetricsRegistry } from "../../core/telemetry/metrics.ts";
import { RejectCounter } from "../../core/telemetry/rejects.ts";

export interface TestCollector {
  collector: Collector;
  registry: Registry;
  /** `127.0.0.1:<port>` of the ALS receiver, for the simulator. */
  alsTarget: string;
  /** Stops in reverse start order; stopping flushes every open minute into storage. */
  stop(): Promise<void>;
}

export interface TestCollectorOptions {
  storage: StorageAdapter;
  logger: Logger;
  /** Collector settings over the test defaults (no Kubernetes, 1 s flushes). */
  settings?: Record<string, unknown>;
  /** Receiver settings (`receivers` section) over the test default of ALS on a free port. */
  receivers?: Record<string, unknown>;
  dataDir?: string;
}

export async function startTestCollector(options: TestCollectorOptions): Promise<TestCollector> {
  const { storage, logger } = options;
  const registry = createMetricsRegistry({ version: "test", collectDefaults: false });
  const collector = await createCollector(
    {
    host: "127.0.0.1",
    writer: storage,
    reader: storage,
    registry,
    rejects: new RejectCounter(registry, logger),
    logger,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    },
    { collector: collectorSection.schema.parse({ kubernetes: "off", flushIntervalSeconds: 1, ...options.settings }), receivers: receiversSection.schema.parse({ als: { port: 0 }, ...options.receivers }) },
  );
  for (const component of collector.components) await component.start();
  let isStopped = false;
  return {
    collector,
    registry,
    alsTarget: `127.0.0.1:${collector.alsPort()}`,
    stop: async () => {
      if (isStopped) return;
      isStopped = true;
      for (const component of [...collector.components].reverse()) await component.stop();
    },
  };
}

/**
 * Without Kubernetes, an operator names pod IPs in a static mapping file; simulated entries without peer
 * metadata need it to name their callers. Writes it into `dir` and returns its path.
 */
export function writeBookinfoPeerMapping(dir: string): string {
  const file = join(dir, "peers.yaml");
  const peers = buildBookinfoPods().map((pod) => `  - ip: ${pod.ip}\n    service: ${pod.service}.${pod.namespace}\n    instance: ${pod.name}.${pod.namespace}\n`);
  writeFileSync(file, `peers:\n${peers.join("")}`);
  return file;
}
