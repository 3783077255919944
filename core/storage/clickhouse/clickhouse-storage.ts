import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "pino";
import type { EntityRecord } from "../../model/dimensions.ts";
import type { MetricAggregate, MinuteMetrics } from "../../model/metrics.ts";
import type { ProbeResult } from "../../model/probe.ts";
import type { SampledRecord } from "../../model/sample.ts";
import type { Span } from "../../model/span.ts";
import {
  StorageUnavailableError,
  type EntityQuery,
  type BusiestSeries,
  type BusiestSeriesQuery,
  type MetricsQuery,
  type ProbeResultQuery,
  type ProbeSeriesPoint,
  type ProbeSeriesQuery,
  type RetentionPolicy,
  type SampleQuery,
  type StorageAdapter,
  type TopNQuery,
  type TraceQuery,
  type TraceSummary,
} from "../port.ts";
import { capabilitiesOf, parseServerVersion, type ClickHouseCapabilities } from "./capabilities.ts";
import { createClickHouseClient, redactUrl } from "./client-factory.ts";
import { openClusterNodes } from "./cluster-nodes.ts";
import { LOCAL_TABLE_SUFFIX, type ClusterLayout } from "./cluster-schema.ts";
import { ClickHouseConnection } from "./connection.ts";
import { applyMigrations } from "./migrations.ts";
import { ClickHouseProbeReader } from "./probe-reader.ts";
import { ClickHouseReader } from "./reader.ts";
import { StoredBlocks } from "./repeated-blocks.ts";
import { readReplicationStatus, type ReplicationStatus } from "./replication-status.ts";
import { applyTtl, dropExpiredPartitions, validateRetention } from "./retention.ts";
import { ClickHouseSpanReader } from "./span-reader.ts";
import { identifier } from "./sql-literals.ts";
import type { RejectCounter } from "../../telemetry/rejects.ts";
import { ClickHouseWriter } from "./writer.ts";
import { WriteGuard } from "../write-guard.ts";

export interface ClickHouseStorageOptions {
  /** HTTP interface, e.g. `http://user:password@clickhouse:8123`. */
  url: string;
  /** Created at start when missing. */
  database: string;
  retention: RetentionPolicy;
  logger: Logger;
  /** Per request; also bounds how long start() waits on a server that does not answer. Default 30 s. */
  requestTimeoutMs?: number;
  /** Counts rows refused as invalid or malformed, and repaired values; without it they are still logged. */
  rejects?: RejectCounter;
  /** Cluster mode: local tables on every node and Distributed tables under the usual names (cluster-schema.ts). */
  cluster?: ClusterLayout;
}

interface Started {
  connection: ClickHouseConnection;
  /** Connections holding each node's rows, for per-node upkeep (retention): the connection itself on a single server. */
  nodes: ClickHouseConnection[];
  closeNodes: () => Promise<void>;
  writer: ClickHouseWriter;
  reader: ClickHouseReader;
  spanReader: ClickHouseSpanReader;
  probeReader: ClickHouseProbeReader;
}

/**
 * The ClickHouse storage adapter: detects the server version at start, applies the versioned schema
 * (sql/NNN_name.sql), and serves the storage port from minute tables with hour and day rollups kept by
 * materialized views. Works on 18.16 (tests) and current releases (users): see capabilities.ts.
 */
export class ClickHouseStorage implements StorageAdapter {
  readonly name = "clickhouse";
  private readonly client: ClickHouseClient;
  private readonly database: string;
  private readonly retention: RetentionPolicy;
  private readonly logger: Logger;
  private readonly displayUrl: string;
  private readonly guard: WriteGuard;
  private started: Started | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly options: ClickHouseStorageOptions) {
    this.database = identifier(options.database);
    this.retention = validateRetention(options.retention);
    this.logger = options.logger;
    this.displayUrl = redactUrl(options.url);
    this.client = createClickHouseClient(options.url, options.requestTimeoutMs ?? 30_000, options.logger);
    this.guard = new WriteGuard({ source: "storage.clickhouse", logger: options.logger, rejects: options.rejects });
  }

  /** What the server supports; known after start(). */
  get capabilities(): ClickHouseCapabilities | undefined {
    return this.started?.connection.capabilities;
  }

  /** Idempotent, also when called concurrently: every caller awaits the same attempt; a failed one may be retried. */
  async start(): Promise<void> {
    this.starting ??= this.connectAndMigrate().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    await this.starting;
  }

  private async connectAndMigrate(): Promise<void> {
    const capabilities = capabilitiesOf(parseServerVersion(await this.serverVersion()));
    const { cluster } = this.options;
    const connection = new ClickHouseConnection(this.client, capabilities, cluster !== undefined);
    const { nodes, closeNodes } = await this.prepareSchema(connection, capabilities);
    this.started = {
      connection,
      nodes,
      closeNodes,
      writer: new ClickHouseWriter(connection, this.database, this.guard, this.isReplicated ? new StoredBlocks() : undefined),
      reader: new ClickHouseReader(connection, this.database),
      spanReader: new ClickHouseSpanReader(connection, this.database),
      probeReader: new ClickHouseProbeReader(connection, this.database),
    };
    this.logger.info(
      {
        url: this.displayUrl,
        database: this.database,
        version: capabilities.version.text,
        queryParameters: capabilities.queryParameters,
        ttl: capabilities.ttl,
        lowCardinality: capabilities.lowCardinality,
        cluster: cluster?.name,
        replicated: cluster?.replicated,
      },
      "clickhouse storage started",
    );
  }

  /**
   * Migrations and TTL. A cluster without ZooKeeper gets its schema node by node (ON CLUSTER needs the
   * DDL queue in ZooKeeper); with it, once ON CLUSTER. TTL is per node either way: it is set on local tables.
   */
  private async prepareSchema(connection: ClickHouseConnection, capabilities: ClickHouseCapabilities): Promise<Pick<Started, "nodes" | "closeNodes">> {
    const { cluster } = this.options;
    if (cluster === undefined) {
      await applyMigrations(connection, this.database, this.logger);
      if (capabilities.ttl) await applyTtl(connection, this.database, this.retention, this.logger);
      return { nodes: [connection], closeNodes: async () => {} };
    }
    const opened = await openClusterNodes({
      seedUrl: this.options.url,
      cluster: cluster.name,
      seed: connection,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 30_000,
      logger: this.logger,
      toleratesMissingHosts: cluster.replicated,
    });
    try {
      if (cluster.replicated) await applyMigrations(connection, this.database, this.logger, undefined, cluster);
      else for (const node of opened.nodes) await applyMigrations(node.connection, this.database, this.logger, undefined, cluster);
      if (capabilities.ttl) for (const node of opened.nodes) await applyTtl(node.connection, this.database, this.retention, this.logger, LOCAL_TABLE_SUFFIX);
    } catch (error) {
      await opened.close();
      throw error;
    }
    return { nodes: opened.nodes.map((node) => node.connection), closeNodes: () => opened.close() };
  }

  /** The first request: any failure here means the server cannot be used, whatever the cause. */
  private async serverVersion(): Promise<string> {
    try {
      const result = await this.client.query({ query: "SELECT version() AS version", format: "JSONEachRow" });
      const rows = await result.json<{ version: string }>();
      return rows[0]?.version ?? "";
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      throw new StorageUnavailableError(`ClickHouse at ${this.displayUrl} is unreachable: ${cause}`, { cause: error });
    }
  }

  private use(): Started {
    // The same error as the DuckDB adapter's, so callers treat "not started yet" like "not reachable yet".
    if (!this.started) throw new StorageUnavailableError(`ClickHouse storage ${this.displayUrl} (${this.database}) is not started (call start() first) or was closed`);
    return this.started;
  }

  async ping(): Promise<boolean> {
    try {
      const result = await this.client.ping();
      return result.success;
    } catch {
      return false;
    }
  }

  /** Cluster mode on Replicated tables (storage.clickhouse.replicated). */
  get isReplicated(): boolean {
    return this.options.cluster?.replicated === true;
  }

  /** Replication as the connected node sees it; undefined unless the cluster is replicated. */
  async replication(): Promise<ReplicationStatus | undefined> {
    if (!this.isReplicated) return undefined;
    return await readReplicationStatus(this.use().connection, this.options.database);
  }

  /**
   * Drops expired day partitions relative to `nowMs`, also where the server has TTL: TTL works on merges,
   * eventually and against the server's clock, while callers (and tests) expect the cut at `nowMs` now.
   * Listing partitions is one small system.parts query, so the double duty costs little.
   */
  async enforceRetention(nowMs: number): Promise<void> {
    if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs must be a finite number, got ${nowMs}`);
    for (const node of this.use().nodes) await dropExpiredPartitions(node, this.database, this.retention, nowMs, this.logger);
  }

  async close(): Promise<void> {
    const closeNodes = this.started?.closeNodes;
    this.started = undefined;
    this.starting = undefined;
    await closeNodes?.();
    await this.client.close();
  }

  async writeMetrics(rows: readonly MinuteMetrics[], writeId?: number): Promise<void> {
    return await this.use().writer.writeMetrics(rows, writeId);
  }

  async isMetricWriteStored(writeId: number, day: number): Promise<boolean> {
    return await this.use().writer.isMetricWriteStored(writeId, day);
  }

  async writeEntities(rows: readonly EntityRecord[]): Promise<void> {
    return await this.use().writer.writeEntities(rows);
  }

  async writeSamples(rows: readonly SampledRecord[]): Promise<void> {
    return await this.use().writer.writeSamples(rows);
  }

  async queryMetrics(query: MetricsQuery): Promise<MetricAggregate[]> {
    return await this.use().reader.queryMetrics(query);
  }

  async busiestSeries(query: BusiestSeriesQuery): Promise<BusiestSeries> {
    return await this.use().reader.busiestSeries(query);
  }

  async topN(query: TopNQuery): Promise<MetricAggregate[]> {
    return await this.use().reader.topN(query);
  }

  async listEntities(query: EntityQuery): Promise<EntityRecord[]> {
    return await this.use().reader.listEntities(query);
  }

  async querySamples(query: SampleQuery): Promise<SampledRecord[]> {
    return await this.use().reader.querySamples(query);
  }

  async writeSpans(spans: readonly Span[]): Promise<void> {
    return await this.use().writer.writeSpans(spans);
  }

  async writeProbeResults(rows: readonly ProbeResult[]): Promise<void> {
    return await this.use().writer.writeProbeResults(rows);
  }

  async getTrace(traceId: string): Promise<Span[]> {
    return await this.use().spanReader.getTrace(traceId);
  }

  async searchTraces(query: TraceQuery): Promise<TraceSummary[]> {
    return await this.use().spanReader.searchTraces(query);
  }

  async listSpanServices(fromMs: number, toMs: number): Promise<string[]> {
    return await this.use().spanReader.listSpanServices(fromMs, toMs);
  }

  async listSpanNames(service: string, fromMs: number, toMs: number): Promise<string[]> {
    return await this.use().spanReader.listSpanNames(service, fromMs, toMs);
  }

  async queryProbeResults(query: ProbeResultQuery): Promise<ProbeResult[]> {
    return await this.use().probeReader.queryProbeResults(query);
  }

  async probeSeries(query: ProbeSeriesQuery): Promise<ProbeSeriesPoint[]> {
    return await this.use().probeReader.probeSeries(query);
  }
}
