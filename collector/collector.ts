import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { z } from "zod";
import type { Component } from "../core/lifecycle.ts";
import type { StorageReader, StorageWriter } from "../core/storage/port.ts";
import type { RejectCounter } from "../core/telemetry/rejects.ts";
import { Flusher } from "./aggregate/flusher.ts";
import { MinuteAggregator } from "./aggregate/minute-aggregator.ts";
import { Sampler } from "./aggregate/sampler.ts";
import type { collectorSection } from "./config.ts";
import { EndpointGrouper } from "./endpoints/endpoint-grouper.ts";
import { readEndpointRulesFile } from "./endpoints/endpoint-rules.ts";
import { MeshResolver } from "./mesh/mesh-resolver.ts";
import { createPeerResolver } from "./mesh/peer-resolver-factory.ts";
import { resolveProxyIdentity } from "./mesh/proxy-identity.ts";
import { CollectorPipeline } from "./pipeline.ts";
import { queryRoutes } from "./query/query-routes.ts";
import { QueryService } from "./query/query-service.ts";
import { registerLogIngestRoutes } from "./receivers/access-log/http-route.ts";
import { AlsReceiver } from "./receivers/envoy-als/als-receiver.ts";

export type CollectorConfig = z.output<(typeof collectorSection)["schema"]>;

export interface CollectorDeps {
  config: CollectorConfig;
  host: string;
  alsPort: number;
  writer: StorageWriter;
  reader: StorageReader;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  clock?: () => number;
}

/** The collector as the process runs it: lifecycle components in start order, and HTTP routes. */
export interface Collector {
  components: Component[];
  routes: FastifyPluginAsync[];
  pipeline: CollectorPipeline;
  /** The ALS port actually bound, once started (the configured one may be 0). */
  alsPort(): number | undefined;
}

/**
 * Assembles the collector from its parts (ARCHITECTURE.md "Data flow"): receivers decode and hand over to
 * the pipeline, which resolves identities, names endpoints, aggregates per minute and samples; the flusher
 * moves closed minutes to storage. Start order is flusher, peer resolver, receivers; stop runs in reverse,
 * so receivers hand over what they hold before the last flush.
 */
export async function createCollector(deps: CollectorDeps): Promise<Collector> {
  const { config, registry, rejects, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const rules = config.endpointRulesFile === undefined ? [] : await readEndpointRulesFile(config.endpointRulesFile);
  const grouper = new EndpointGrouper({ registry, rules, maxEndpointsPerService: config.maxEndpointsPerService, clock });
  const peers = await createPeerResolver({ kubernetes: config.kubernetes, staticMappingFile: config.staticMappingFile ?? "", logger, rejects });
  const resolver = new MeshResolver({ peers, nameEndpoint: (...args) => grouper.nameEndpoint(...args), rejects });
  const aggregator = new MinuteAggregator({
    registry,
    rejects,
    clock,
    latenessMs: config.latenessSeconds * 1000,
    defaultApdexThresholdMs: config.apdexThresholdMs,
  });
  const sampler = new Sampler({
    registry,
    clock,
    slowThresholdMs: config.slowThresholdMs,
    perServiceRatePerSecond: config.samplesPerServicePerSecond,
    uniformRate: config.uniformSampleRate,
  });
  const flusher = new Flusher({ aggregator, sampler, writer: deps.writer, registry, rejects, logger, clock, intervalMs: config.flushIntervalSeconds * 1000 });
  const pipeline = new CollectorPipeline({
    resolve: (proxy, entry, out) => resolver.resolve(proxy, entry, out),
    aggregator,
    sampler,
    backpressure: [flusher],
    registry,
    rejects,
    clock,
  });
  const als = new AlsReceiver({
    host: deps.host,
    port: deps.alsPort,
    ingest: pipeline,
    identify: resolveProxyIdentity,
    rejects,
    logger,
    registry,
    maxStreams: config.alsMaxStreams,
  });
  let alsPort: number | undefined;

  const components: Component[] = [
    {
      name: "collector.flusher",
      start: async () => flusher.start(),
      stop: () => flusher.stop(),
    },
    { name: "collector.peers", start: () => peers.start(), stop: () => peers.stop() },
    {
      name: "collector.als",
      start: async () => {
        alsPort = await als.start();
        logger.info({ component: "als", host: deps.host, port: alsPort }, "listening");
      },
      stop: () => als.stop(),
    },
  ];
  const routes: FastifyPluginAsync[] = [
    queryRoutes(new QueryService(deps.reader), clock),
    async (app) => registerLogIngestRoutes(app, { ingest: pipeline, rejects, defaultFormat: config.accessLogFormat }),
  ];
  return { components, routes, pipeline, alsPort: () => alsPort };
}
