import { UNKNOWN_SERVICE, type EntityRecord, type Layer } from "../../core/model/dimensions.ts";
import {
  deriveMetric,
  RESOLUTION_MS,
  sumMetricValues,
  type DerivedMetric,
  type MetricAggregate,
  type MetricScope,
  type MetricValues,
  type Resolution,
} from "../../core/model/metrics.ts";
import { countedRelationRows } from "../../core/model/relation-sides.ts";
import type { SampledRecord } from "../../core/model/sample.ts";
import type { MetricsQuery, SampleQuery, StorageReader } from "../../core/storage/port.ts";
import { serviceFigures, type MeasuredBy } from "./service-figures.ts";
import { currentMinute, defaultResolution, rangeMinutes, type TimeRange } from "./time-range.ts";

/** The API's read model (docs/architecture.md "API contract"): storage aggregates turned into what users read. */

export interface ServiceSummary {
  name: string;
  layer: Layer;
  /** Calls per minute averaged over the range. */
  cpm: number;
  /** Calls in the last complete minute of the range: the current rate. */
  cpmNow: number;
  sla: number;
  p95: number;
  apdex: number;
  calls: number;
  errors: number;
  /** `callers` when the service's own proxy reported nothing in the range and its figures are its callers' view. */
  measuredBy: MeasuredBy;
}

export interface InstanceSummary {
  name: string;
  cpm: number;
  /** Calls in the last complete minute of the range. */
  cpmNow: number;
  sla: number;
  p95: number;
  attributes: Record<string, string>;
}

export interface EndpointSummary {
  name: string;
  cpm: number;
  /** Calls in the last complete minute of the range. */
  cpmNow: number;
  sla: number;
  p95: number;
}

export interface TopologyNode {
  name: string;
  /** false for what is no service: UNKNOWN, and callers that only ever reported their own outbound calls. */
  isReal: boolean;
  cpm: number;
  /** Calls in the last complete minute of the range, counted as the services list counts them. */
  cpmNow: number;
  sla: number;
}

export interface TopologyEdge {
  source: string;
  target: string;
  detectPoints: string[];
  components: string[];
  cpm: number;
  /** Calls in the last complete minute of the range, as the counted side saw them. */
  cpmNow: number;
  sla: number;
  /** The lower SLA of the two sides' views (client and server), so a fault only one side sees still shows. */
  worstSla: number;
  p95: number;
}

export interface SeriesQuery {
  scope: MetricScope;
  service?: string;
  name?: string;
  detectPoint?: "client" | "server";
  metric: DerivedMetric;
  step?: Resolution;
}

export interface SeriesPoint {
  t: number;
  /** null where a ratio or percentile has no calls to be computed from. */
  v: number | null;
}

/** Entities seen this long before a window still count as belonging to it (their last write may predate it). */
const ENTITY_LOOKBACK_MS = 24 * RESOLUTION_MS.hour;
const MAX_LISTED_ENTITIES = 10_000;
const COUNT_METRICS: ReadonlySet<DerivedMetric> = new Set(["cpm", "calls", "errors"]);

export class QueryService {
  constructor(private readonly reader: StorageReader) {}

  async services(range: TimeRange): Promise<ServiceSummary[]> {
    const current = currentMinute(range);
    const [rows, callerRows, entities, currentRows, currentCallerRows] = await Promise.all([
      this.aggregates("service", range, {}),
      this.callerSide(range),
      this.entities("service", range),
      this.aggregates("service", current, {}),
      this.callerSide(current),
    ]);
    const minutes = rangeMinutes(range);
    const layers = new Map(entities.map((entity) => [entity.service, entity.layer]));
    const currentFigures = serviceFigures(currentRows, currentCallerRows);
    return [...serviceFigures(rows, callerRows)]
      .map(([name, { values, measuredBy }]) => ({
        name,
        layer: layers.get(name) ?? "MESH",
        ...summarize(values, minutes),
        cpmNow: currentFigures.get(name)?.values.calls ?? 0,
        apdex: deriveMetric(values, "apdex", minutes),
        calls: values.calls,
        errors: values.errors,
        measuredBy,
      }))
      .sort(byName);
  }

  async instances(service: string, range: TimeRange): Promise<InstanceSummary[]> {
    const [rows, currentCalls, entities] = await Promise.all([
      this.aggregates("instance", range, { service }),
      this.currentCallsByName("instance", range, service),
      this.entities("instance", range, service),
    ]);
    const minutes = rangeMinutes(range);
    const attributes = new Map(entities.map((entity) => [entity.name, entity.attributes]));
    return rows
      .map((row) => ({ name: row.name, ...summarize(row, minutes), cpmNow: currentCalls.get(row.name) ?? 0, attributes: attributes.get(row.name) ?? {} }))
      .sort(byName);
  }

  async endpoints(service: string, range: TimeRange): Promise<EndpointSummary[]> {
    const minutes = rangeMinutes(range);
    const [rows, currentCalls] = await Promise.all([this.aggregates("endpoint", range, { service }), this.currentCallsByName("endpoint", range, service)]);
    return rows.map((row) => ({ name: row.name, ...summarize(row, minutes), cpmNow: currentCalls.get(row.name) ?? 0 })).sort(byName);
  }

  /** Edges name both detect points of a pair and carry the numbers of the side countedRelationRows keeps. */
  async topology(range: TimeRange, service?: string): Promise<{ nodes: TopologyNode[]; edges: TopologyEdge[] }> {
    const minutes = rangeMinutes(range);
    const current = currentMinute(range);
    const [relations, services, currentRelations, currentServices] = await Promise.all([
      this.aggregates("relation", range, {}),
      this.aggregates("service", range, {}),
      this.aggregates("relation", current, {}),
      this.aggregates("service", current, {}),
    ]);
    const counted = new Set(countedRelationRows(relations));
    const currentCalls = new Map<string, number>();
    for (const row of countedRelationRows(currentRelations)) currentCalls.set(pairKey(row), (currentCalls.get(pairKey(row)) ?? 0) + row.calls);
    const pairs = new Map<string, { source: string; target: string; rows: MetricAggregate[] }>();
    for (const row of relations) {
      if (service !== undefined && row.service !== service && row.name !== service) continue;
      const key = pairKey(row);
      const pair = pairs.get(key) ?? { source: row.service, target: row.name, rows: [] };
      pair.rows.push(row);
      pairs.set(key, pair);
    }
    const edges = [...pairs].map(([key, { source, target, rows }]) => {
      const figures = summarize(sumMetricValues(rows.filter((row) => counted.has(row))), minutes);
      const sideSlas = (["client", "server"] as const)
        .map((side) => rows.filter((row) => row.detectPoint === side))
        .filter((sideRows) => sideRows.length > 0)
        .map((sideRows) => deriveMetric(sumMetricValues(sideRows), "sla", minutes));
      return {
        source,
        target,
        detectPoints: unique(rows.map((row) => row.detectPoint)),
        components: unique(rows.map((row) => row.component)),
        ...figures,
        cpmNow: currentCalls.get(key) ?? 0,
        worstSla: Math.min(figures.sla, ...sideSlas),
      };
    });
    const figures = serviceFigures(services, relations);
    const currentFigures = serviceFigures(currentServices, currentRelations);
    const names = unique(edges.flatMap((edge) => [edge.source, edge.target]).concat(service === undefined ? [...figures.keys()] : [service]));
    const nodes = names.map((name) => {
      const values = figures.get(name)?.values;
      return {
        name,
        isReal: values !== undefined,
        cpm: values ? deriveMetric(values, "cpm", minutes) : 0,
        cpmNow: currentFigures.get(name)?.values.calls ?? 0,
        sla: values ? deriveMetric(values, "sla", minutes) : 100,
      };
    });
    return { nodes, edges: edges.sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target)) };
  }

  /** One point per step over the range, gaps included, so charts show silence as silence. */
  async series(query: SeriesQuery, range: TimeRange): Promise<SeriesPoint[]> {
    const step = query.step ?? defaultResolution(range);
    const stepMs = RESOLUTION_MS[step];
    // Rollup rows are labelled by the start of their hour or day: widen the range to whole steps so a
    // bucket that starts before `from` is still read.
    const first = Math.floor(range.fromMs / stepMs) * stepMs;
    const end = Math.ceil(range.toMs / stepMs) * stepMs;
    const rows = await this.seriesRows(query, { fromMs: first, toMs: end, resolution: step, groupByTime: true });
    const byTime = new Map<number, MetricAggregate[]>();
    for (const row of rows) byTime.set(row.timeMs, [...(byTime.get(row.timeMs) ?? []), row]);
    const points: SeriesPoint[] = [];
    for (let t = first; t < end; t += stepMs) {
      const bucket = byTime.get(t);
      if (bucket === undefined) {
        points.push({ t, v: COUNT_METRICS.has(query.metric) ? 0 : null });
        continue;
      }
      points.push({ t, v: deriveMetric(sumMetricValues(bucket), query.metric, stepMs / RESOLUTION_MS.minute) });
    }
    return points;
  }

  logs(query: SampleQuery): Promise<SampledRecord[]> {
    return this.reader.querySamples(query);
  }

  /**
   * A relation without a detect point reads the side countedRelationRows keeps; a service whose own proxy
   * reported nothing in the range reads its callers' view, as services() lists it.
   */
  private async seriesRows(query: SeriesQuery, window: Omit<MetricsQuery, "scope">): Promise<MetricAggregate[]> {
    const rows = await this.reader.queryMetrics({ scope: query.scope, ...window, ...filters(query) });
    if (query.scope === "relation" && query.detectPoint === undefined) return countedRelationRows(rows);
    if (query.scope !== "service" || rows.length > 0 || query.service === undefined || query.service === UNKNOWN_SERVICE) return rows;
    return this.reader.queryMetrics({ scope: "relation", ...window, name: query.service, detectPoint: "client" });
  }

  /** Client-side relation rows of the range: what callers saw of the services they call. */
  private callerSide(range: TimeRange): Promise<MetricAggregate[]> {
    return this.reader.queryMetrics({ scope: "relation", fromMs: range.fromMs, toMs: range.toMs, resolution: "minute", groupByTime: false, detectPoint: "client" });
  }

  /** Calls of each instance or endpoint of `service` in the range's last complete minute, by name. */
  private async currentCallsByName(scope: "instance" | "endpoint", range: TimeRange, service: string): Promise<Map<string, number>> {
    const rows = await this.aggregates(scope, currentMinute(range), { service });
    return new Map(rows.map((row) => [row.name, row.calls]));
  }

  private aggregates(scope: MetricScope, range: TimeRange, filter: { service?: string }): Promise<MetricAggregate[]> {
    return this.reader.queryMetrics({ scope, fromMs: range.fromMs, toMs: range.toMs, resolution: "minute", groupByTime: false, ...filter });
  }

  private entities(kind: EntityRecord["kind"], range: TimeRange, service?: string): Promise<EntityRecord[]> {
    return this.reader.listEntities({
      kind,
      seenSinceMs: range.fromMs - ENTITY_LOOKBACK_MS,
      limit: MAX_LISTED_ENTITIES,
      ...(service === undefined ? {} : { service }),
    });
  }
}

function filters(query: SeriesQuery): { service?: string; name?: string; detectPoint?: "client" | "server" } {
  return {
    ...(query.service === undefined ? {} : { service: query.service }),
    ...(query.name === undefined ? {} : { name: query.name }),
    ...(query.detectPoint === undefined ? {} : { detectPoint: query.detectPoint }),
  };
}

function summarize(values: MetricValues, minutes: number): { cpm: number; sla: number; p95: number } {
  return { cpm: deriveMetric(values, "cpm", minutes), sla: deriveMetric(values, "sla", minutes), p95: deriveMetric(values, "p95", minutes) };
}

function pairKey(row: MetricAggregate): string {
  return `${row.service}\u0000${row.name}`;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}
