import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { FastifyPluginAsync } from "fastify";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Component } from "../core/lifecycle.ts";
import { RateLimitedLog } from "../core/telemetry/rate-limited-log.ts";
import type { StorageReader, StorageWriter } from "../core/storage/port.ts";
import type { RejectCounter } from "../core/telemetry/rejects.ts";
import { Flusher } from "./aggregate/flusher.ts";
import { retentionMsOf, type CoveredRange } from "./aggregate/minute-admission.ts";
import { MinuteAggregator } from "./aggregate/minute-aggregator.ts";
import { Sampler } from "./aggregate/sampler.ts";
import { fileSourceIdentity } from "./access-log-source.ts";
import { zipkinQueryRoutes } from "./query/trace-zipkin-routes.ts";
import { EndpointGrouper } from "./endpoints/endpoint-grouper.ts";
import { readEndpointRulesFile } from "./endpoints/endpoint-rules.ts";
import { MeshResolver } from "./mesh/mesh-resolver.ts";
import { createPeerResolver } from "./mesh/peer-resolver-factory.ts";
import { resolveProxyIdentity } from "./mesh/proxy-identity.ts";
import { CollectorPipeline } from "./pipeline.ts";
import { readApiRoutes } from "./query/read-api-routes.ts";
import { FileTailer } from "./receivers/access-log/file-tailer.ts";
import { registerLogIngestRoutes } from "./receivers/access-log/http-route.ts";
import type { AlsReceiver, AlsReceiverOptions } from "./receivers/envoy-als/als-receiver.ts";
import { SegmentLog, type StoredSegment } from "./wal/segment-log.ts";
import { WriteAheadBuffer, type ReplayTarget } from "./wal/write-ahead-buffer.ts";
import { SpanWriteAhead } from "./wal/span-write-ahead.ts";
import { DrainJournal, type RecoveredDrain } from "./wal/drain-journal.ts";
import type { FlushCheckpoint } from "./aggregate/flusher.ts";
import type { SourceDecoder } from "./wal/wal-record.ts";
import { DecoderMemo } from "./receivers/envoy-als/decoder-memo.ts";
import { decodeAlsMessage } from "./receivers/envoy-als/message-decoder.ts";
import type { AuthorizeRequest } from "../core/http/app.ts";
import type { ConfigOf } from "../core/config/section.ts";
import type { RetentionPolicy } from "../core/storage/port.ts";
import { tuneHeapGrowthForCollector } from "./heap-growth.ts";
import { HeapRelease } from "./heap-release.ts";
import type { AccessLogFilesConfig } from "./receivers/access-log/config.ts";
import type { TracesConfig } from "./traces/config.ts";
import type { collectorSections } from "./sections.ts";
import { MeshMeasuredServices } from "./traces/mesh-measured.ts";
import { openFileState } from "../core/state/state-stores.ts";
import type { OpenState } from "../core/state/port.ts";
import type { AccessLogIngest } from "./ingest.ts";
import { IngestActivity } from "./ingest-activity.ts";
import type * as Simulator from "./simulator/simulate-bookinfo.ts";

export { readApiRoutes as collectorQueryRoutes } from "./query/read-api-routes.ts";
export { formatIngestHelp, IngestUsageError, parseIngestArgs, runIngestCommand } from "./ingest-command.ts";

/** `meshsight simulate`'s gRPC client, loaded only by that command (the gRPC packages cost ~0.1 CPU-s to load). */
export const loadSimulator = (): Promise<typeof Simulator> => import("./simulator/simulate-bookinfo.ts");
export { formatSimulateHelp, parseSimulateArgs, SimulateUsageError } from "./simulator/simulate-command.ts";

export interface CollectorConfigs extends Pick<ConfigOf<typeof collectorSections>, "collector" | "receivers"> {
  /** Trace ingestion (OTLP, Zipkin receivers and tail sampling); without it the collector takes access logs only. */
  traces?: TracesConfig;
  /** Storage's minute retention: event-time input older than it is rejected as `expired`; unset, nothing expires. */
  storage?: { retention: Pick<RetentionPolicy, "minuteDays"> };
}

/** One input read by its own time (a file's history, a `meshsight ingest` run), with its own watermark. */
export interface EventTimeInput {
  ingest: AccessLogIngest;
  /** The minutes its admitted records fell in, or null when none was. */
  covered(): CoveredRange | null;
}

/** Where tail offsets go when receivers.accessLogFiles.offsetsFile is unset: next to the rest of the local state. */
const DEFAULT_OFFSETS_FILE_NAME = "access-log-offsets.json";
/** Where the write-ahead buffer lives when collector.walDir is unset. */
const DEFAULT_WAL_DIR_NAME = "wal";
/** Where the flusher journals drains, inside the write-ahead buffer's directory. */
const DRAIN_JOURNAL_DIR_NAME = "drains";
/** The span requests' segments, inside the buffer's directory: they are committed on their own terms. */
const SPAN_WAL_DIR_NAME = "spans";
/** Segment size: small enough that a replay reads one at a time, large enough that commits are rare. */
const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;

export interface CollectorDeps {
  host: string;
  writer: StorageWriter;
  reader: StorageReader;
  registry: Registry;
  rejects: RejectCounter;
  logger: Logger;
  /** storage.dataDir: the default home of the tail offsets file. Needed only when files are tailed without an offsets file. */
  dataDir?: string;
  /** The API's bearer-token check, so the trace receivers' HTTP ports honour the same tokens (ingest scope). */
  authorize?: AuthorizeRequest;
  /**
   * The state port (Redis when replicas share it): with traces, it holds which services sidecars measured,
   * per minute, so no collector counts their spans again. Default: a file under dataDir (one process).
   */
  openState?: OpenState;
  /**
   * This process's node flags (process.execArgv): when given, the collector tunes V8's heap growth for its
   * allocation pattern unless the operator chose a value there (heap-growth.ts).
   */
  execArgv?: readonly string[];
  /**
   * The process's Kubernetes configuration, loaded once by the composition root (null: none or unreadable);
   * absent: the peer resolver finds it itself.
   */
  kubeConfig?: KubeConfig | null;
  /** Between the console's ingest summaries (collector/ingest-activity.ts); 0 or absent: none. */
  summaryIntervalMs?: number;
  clock?: () => number;
}

/** The collector as the process runs it: lifecycle components in start order, and HTTP routes. */
export interface Collector {
  components: Component[];
  /**
   * The part of `components` that turns handed-over entries into stored rows (flusher, peer resolver), without
   * listeners or file tailers: what a one-shot `meshsight ingest` runs. Same start order as `components`.
   */
  pipelineComponents: Component[];
  routes: FastifyPluginAsync[];
  pipeline: CollectorPipeline;
  /** A new input judged by the data's own time instead of the clock (minute-admission.ts, EventTimeAdmission). */
  eventTimeInput(): EventTimeInput;
  /** The ALS port actually bound, once started (the configured one may be 0). */
  alsPort(): number | undefined;
}

/**
 * The collector component, the one door cli.ts uses. Assembles it from its parts (docs/architecture.md "Data flow"): receivers decode and hand over to
 * the pipeline, which resolves identities, names endpoints, aggregates per minute and samples; the flusher
 * moves closed minutes to storage. Start order is flusher, peer resolver, receivers; stop runs in reverse,
 * so receivers hand over what they hold before the last flush.
 */
export async function createCollector(deps: CollectorDeps, configs: CollectorConfigs): Promise<Collector> {
  const config = configs.collector;
  const { registry, rejects, logger } = deps;
  if (deps.execArgv !== undefined) tuneHeapGrowthForCollector(deps.execArgv);
  const clock = deps.clock ?? Date.now;
  const rules = config.endpointRulesFile === undefined ? [] : await readEndpointRulesFile(config.endpointRulesFile);
  const grouper = new EndpointGrouper({ registry, rules, maxEndpointsPerService: config.maxEndpointsPerService, clock });
  const { kubeConfig } = deps;
  const peers = await createPeerResolver({
    kubernetes: config.kubernetes,
    staticMappingFile: config.staticMappingFile ?? "",
    logger,
    rejects,
    ...(kubeConfig === undefined ? {} : { loadKubeConfig: () => kubeConfig }),
  });
  const resolver = new MeshResolver({ peers, nameEndpoint: (service, method, path, protocol) => grouper.nameEndpoint(service, method, path, protocol), rejects, registry });
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
  const walDir = writeAheadDirOf(config, deps.dataDir);
  const walLog = walDir === undefined ? undefined : segmentLogIn(walDir, config);
  const spanWriteAhead = walDir === undefined || configs.traces === undefined ? undefined : new SpanWriteAhead({ log: segmentLogIn(join(walDir, SPAN_WAL_DIR_NAME), config), registry, rejects, logger });
  const journal = walDir === undefined ? undefined : new DrainJournal(join(walDir, DRAIN_JOURNAL_DIR_NAME));
  // The buffer sits in front of the pipeline built below; the flusher reaches it only when it flushes.
  const accessLogCheckpoint: SegmentCheckpoint = { seal: () => wal?.seal() ?? 0, commit: (mark) => wal?.commit(mark) };
  const checkpoint = journal === undefined ? {} : { checkpoint: checkpointOver(spanWriteAhead === undefined ? [accessLogCheckpoint] : [accessLogCheckpoint, spanWriteAhead]), journal };
  const heapRelease = new HeapRelease();
  const flusher = new Flusher({
    aggregator,
    sampler,
    writer: deps.writer,
    registry,
    rejects,
    logger,
    clock,
    intervalMs: config.flushIntervalSeconds * 1000,
    batchRows: config.flushBatchRows,
    onDrained: (rows) => heapRelease.noteDrained(rows),
    ...(journal === undefined || spanWriteAhead === undefined ? {} : { countedSpans: () => spanWriteAhead.countedSpans() }),
    ...checkpoint,
  });
  const pipeline = new CollectorPipeline({
    resolve: (proxy, entry, out) => resolver.resolve(proxy, entry, out),
    selfOf: (proxy) => resolver.selfOf(proxy),
    aggregator,
    sampler,
    backpressure: [flusher],
    registry,
    rejects,
    clock,
  });
  const { receivers } = configs;
  const activity = new IngestActivity({ logger, rejectedTotal: () => rejects.total, summaryIntervalMs: deps.summaryIntervalMs ?? 0, now: clock });
  const meshMeasured = configs.traces === undefined ? undefined : meshMeasuredComponent(deps, config.latenessSeconds * 1000);
  // Trace handling, span receivers and the ALS server are imported only by a process that runs them
  // (`meshsight ingest` builds a collector without them).
  const traces =
    configs.traces === undefined || meshMeasured === undefined
      ? undefined
      : (await import("./traces/trace-components.ts")).createTraceComponents({
          config: configs.traces,
          pipeline,
          grouper,
          meshServices: meshMeasured.services,
          writer: deps.writer,
          registry,
          rejects,
          logger,
          clock,
          ...(spanWriteAhead === undefined ? {} : { writeAhead: spanWriteAhead }),
        });
  // Services whose sidecars send access logs are measured already: their spans must not count them again.
  const notingMeshServices = (input: AccessLogIngest): AccessLogIngest =>
    meshMeasured === undefined
      ? input
      : wrapIngest(input, (proxy, entries) => {
          const accepted = input.ingest(proxy, entries);
          if (accepted) meshMeasured.services.noteAccessLogs(resolver.selfOf(proxy).service, entries);
          return accepted;
        });
  const liveInput = notingMeshServices(pipeline);
  const wal: WriteAheadBuffer | undefined = walLog === undefined ? undefined : new WriteAheadBuffer({ log: walLog, inner: liveInput, overload: pipeline, registry, rejects, logger });
  // Tailed files are not logged: they are their own durable source, resumed from their saved offsets.
  const accessLogs = wal ?? liveInput;
  const retentionMs = retentionMsOf(configs.storage?.retention.minuteDays);
  const eventTimeInput = (): EventTimeInput => {
    const admission = aggregator.eventTimeAdmission(retentionMs);
    const judged = pipeline.inputJudgedBy(admission);
    const ingest = notingMeshServices(
      wrapIngest(judged, (proxy, entries) => {
        // History spreads over many minutes and fills the aggregator fast: drain it now, not at the next tick.
        if (aggregator.isOverloaded()) flusher.requestFlush();
        return judged.ingest(proxy, entries);
      }),
    );
    return { ingest, covered: () => admission.covered() };
  };
  const alsOptions: AlsReceiverOptions = {
    host: deps.host,
    port: receivers.als.port,
    ingest: activity.accessLogs("als", accessLogs),
    identify: resolveProxyIdentity,
    rejects,
    logger,
    registry,
    maxStreams: receivers.als.maxStreams,
    maxConnectionAgeMs: receivers.als.maxConnectionAgeMs,
    maxConnectionAgeGraceMs: receivers.als.maxConnectionAgeGraceMs,
  };
  let als: AlsReceiver | undefined;
  let alsPort: number | undefined;

  const pipelineComponents: Component[] = [
    activity.component(),
    {
      name: "collector.flusher",
      start: async () => flusher.start(),
      stop: () => flusher.stop(),
    },
    { name: "collector.peers", start: () => peers.start(), stop: () => peers.stop() },
    // Stops before the flusher: calls still waiting for their caller are given up before the last flush.
    { name: "collector.pairing", start: async () => pipeline.startExpiringCallers(), stop: async () => pipeline.stopExpiringCallers() },
  ];
  const components: Component[] = [
    ...(walLog === undefined || wal === undefined || journal === undefined
      ? pipelineComponents
      : withWriteAheadBuffer(pipelineComponents, { log: walLog, wal, spans: spanWriteAhead, journal, flusher }, () => ({ input: eventTimeInput().ingest, flush: () => flusher.flush(), decodeAls: alsMessageDecoder() }), logger)),
    ...(meshMeasured === undefined ? [] : [meshMeasured.component]),
    heapRelease,
    {
      name: "collector.als",
      start: async () => {
        const { AlsReceiver } = await import("./receivers/envoy-als/als-receiver.ts");
        als = new AlsReceiver(alsOptions);
        alsPort = await als.start();
        logger.info({ component: "als", host: deps.host, port: alsPort }, "listening");
      },
      stop: async () => als?.stop(),
    },
  ];
  if (receivers.accessLogFiles.paths.length > 0) {
    const files = (ingest: AccessLogIngest): AccessLogIngest => activity.accessLogs("access-log-files", ingest);
    components.push(fileTailerComponent(deps, receivers.accessLogFiles, files(liveInput), () => files(eventTimeInput().ingest)));
  }
  const routes: FastifyPluginAsync[] = [
    ...readApiRoutes(deps.reader, clock),
    async (app) => registerLogIngestRoutes(app, { ingest: activity.accessLogs("log-post", accessLogs), rejects }),
    activity.routes(),
  ];
  if (traces !== undefined) {
    const { createSpanReceivers } = await import("./receivers/span-receivers.ts");
    const spanReceivers = createSpanReceivers(
      {
        host: deps.host,
        ingest: traces.spanIngest,
        countedAs: (receiver, ingest) => activity.spans(receiver, ingest),
        zipkinQueryRoutes: zipkinQueryRoutes(deps.reader, clock),
        registry,
        rejects,
        logger,
        ...(deps.authorize === undefined ? {} : { authorize: deps.authorize }),
      },
      receivers,
    );
    // The sampler starts first, so spans the receivers take always have somewhere to go; spans an earlier
    // process logged but never settled go to it before any receiver takes new ones.
    const replaySpans: Component[] =
      spanWriteAhead === undefined ? [] : [{ name: "collector.wal-span-replay", start: async () => spanWriteAhead.replay((inputs, segment) => traces.spanIngest.replay(inputs, segment)), stop: async () => undefined }];
    components.push(...traces.components, ...replaySpans, ...spanReceivers.components);
  }
  return { components, pipelineComponents, routes, pipeline, eventTimeInput, alsPort: () => alsPort };
}

/** Marks older than this cannot matter: span metrics of their minute and the next are no longer aggregated. */
const MESH_MARK_MARGIN_MS = 3 * 60_000;

/** The shared mesh-measured marks (docs/traces.md) and their lifecycle: read on start, writes awaited on stop. */
function meshMeasuredComponent(deps: CollectorDeps, latenessMs: number): { services: MeshMeasuredServices; component: Component } {
  if (deps.dataDir === undefined && deps.openState === undefined) throw new Error("traces are configured but neither a state port nor a data directory says where to keep the mesh-measured marks");
  const open = deps.openState ?? openFileState(deps.clock);
  const store = open("mesh-measured", { file: join(deps.dataDir ?? ".", "mesh-measured.json") });
  const services = new MeshMeasuredServices({ store, markTtlMs: latenessMs + MESH_MARK_MARGIN_MS, registry: deps.registry, logger: deps.logger });
  return {
    services,
    component: {
      name: "collector.mesh-measured",
      start: () => store.start(),
      stop: async () => {
        await services.drain();
        await store.stop();
      },
    },
  };
}

/** Decodes ALS message bytes kept by the write-ahead buffer; what did not decode was counted when first received. */
function alsMessageDecoder(): SourceDecoder {
  const memo = new DecoderMemo();
  return (bytes) => decodeAlsMessage(bytes, memo).entries;
}

/** The directory of collector.wal, or undefined when it is off. */
function writeAheadDirOf(config: CollectorConfigs["collector"], dataDir: string | undefined): string | undefined {
  if (config.wal === "off") return undefined;
  const dir = config.walDir ?? (dataDir === undefined ? undefined : join(dataDir, DEFAULT_WAL_DIR_NAME));
  if (dir === undefined) throw new Error("collector.wal is on but neither collector.walDir nor a data directory says where to keep it");
  return dir;
}

function segmentLogIn(dir: string, config: CollectorConfigs["collector"]): SegmentLog {
  return new SegmentLog({ dir, maxBytes: config.walMaxBytes, segmentBytes: Math.min(WAL_SEGMENT_BYTES, config.walMaxBytes), syncIntervalMs: config.walSyncIntervalMs });
}

/** One buffer's side of the flusher's checkpoint: a segment number to commit through. */
interface SegmentCheckpoint {
  seal(): number;
  commit(mark: number): void;
}

/**
 * One flusher checkpoint over several buffers: a drain seals each, and committing that drain's marks commits
 * each at its own. The marks are journaled with the drain, in this order.
 */
function checkpointOver(parts: readonly SegmentCheckpoint[]): FlushCheckpoint {
  return {
    seal: () => parts.map((part) => part.seal()),
    commit: (marks) => parts.forEach((part, index) => part.commit(marks[index] ?? 0)),
  };
}

/** Per buffer (checkpointOver's order), the last segment an earlier process's journaled drains cover. */
function committedThrough(drains: readonly RecoveredDrain[], buffer: number): number {
  return drains.reduce((through, drain) => Math.max(through, drain.marks[buffer] ?? 0), 0);
}

/**
 * The pipeline's components with the write-ahead buffer around them: its segments open before the flusher
 * starts and close after the flusher's last flush committed them. Drains an earlier process journaled go
 * to the flusher first, and the segments they cover are dropped; what else it left is replayed once the
 * peer resolver runs (so replayed entries resolve as live ones do) and before any receiver starts.
 */
function withWriteAheadBuffer(
  pipelineComponents: readonly Component[],
  buffers: { log: SegmentLog; wal: WriteAheadBuffer; spans: SpanWriteAhead | undefined; journal: DrainJournal; flusher: Flusher },
  replayTarget: () => ReplayTarget,
  logger: Logger,
): Component[] {
  let stored: StoredSegment[] = [];
  const { log, wal, spans, journal, flusher } = buffers;
  return [
    {
      name: "collector.wal",
      start: async () => {
        const drains = journal.open();
        flusher.recover(drains);
        stored = log.open(committedThrough(drains, 0));
        logger.info({ component: "wal", segments: stored.length, bytes: log.bytes, journaledDrains: drains.length }, "write-ahead buffer open");
        spans?.open(committedThrough(drains, 1), journal.countedSpans);
      },
      stop: async () => {
        log.close();
        spans?.close();
      },
    },
    ...pipelineComponents,
    {
      name: "collector.wal-replay",
      start: async () => {
        const target = replayTarget();
        await wal.replay(stored, target);
        target.input.end?.();
      },
      stop: async () => undefined,
    },
  ];
}

/** `inner` with its ingest done by `ingest`, still telling how many entries it aggregated. */
function wrapIngest(inner: AccessLogIngest, ingest: AccessLogIngest["ingest"]): AccessLogIngest {
  return {
    ingest,
    get aggregatedEntries() {
      return inner.aggregatedEntries;
    },
    end: () => inner.end?.(),
  };
}

/** Tails receivers.accessLogFiles into the pipeline; stopping saves the offsets, so a restart resumes. */
function fileTailerComponent(deps: CollectorDeps, config: AccessLogFilesConfig, ingest: AccessLogIngest, historyInput: () => AccessLogIngest): Component {
  const { logger, rejects } = deps;
  const statePath = config.offsetsFile ?? (deps.dataDir === undefined ? undefined : join(deps.dataDir, DEFAULT_OFFSETS_FILE_NAME));
  if (statePath === undefined) throw new Error("receivers.accessLogFiles.paths is set but neither receivers.accessLogFiles.offsetsFile nor a data directory says where to keep tail offsets");
  // A file the process cannot read is the operator's to see, not a reason to stop tailing the others; but
  // the tailer retries every poll, so the warning is rate limited.
  const warnings = new RateLimitedLog(logger);
  // Constructing checks the format, so a bad receivers.accessLogFiles.format fails createCollector (exit 2), not a later poll.
  const tailer = new FileTailer({
    paths: config.paths,
    format: config.format,
    identity: fileSourceIdentity(config),
    ingest,
    historyInput,
    rejects,
    statePath,
    startAt: config.startAt,
    onError: (error) => warnings.warn("unreadable-file", { component: "access-log-files", err: error }, "cannot read an access-log file"),
  });
  return {
    name: "collector.access-log-files",
    start: async () => {
      // With ClickHouse nothing else creates the data directory, and offsets that cannot be saved mean replays.
      await mkdir(dirname(statePath), { recursive: true });
      await tailer.start();
      logger.info({ component: "access-log-files", paths: config.paths, format: config.format, statePath }, "tailing access-log files");
    },
    stop: () => tailer.stop(),
  };
}
