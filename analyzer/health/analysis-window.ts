import type { MetricAggregate, MetricScope, MetricValues } from "../../core/model/metrics.ts";
import { sumMetricValues } from "../../core/model/metrics.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import type { RuleScope } from "../rules/rule.ts";
import { attachBaselines } from "./baseline-window.ts";
import { attachProbes, type ProbeMinute } from "./probe-window.ts";

/**
 * The data one analysis round looks at: per entity, one slot per minute of the window (oldest first),
 * read with one metrics query per scope and one probe query. A round is bounded: each scope keeps its
 * busiest `maxEntitiesPerScope` entities, chosen in storage so the rest never reach Node, and counts the
 * rest as skipped.
 */

export interface EntityWindow {
  scope: RuleScope;
  /** The name rules match and alerts show: SkyWalking's style (`GET:/x in svc.ns`, `a.ns to b.ns`). */
  entity: string;
  /** The service the entity belongs to (a relation's caller; a probe's mapped service, or ""). */
  service: string;
  labels: Record<string, string>;
  minutes: (MetricValues | undefined)[];
  probes: (ProbeMinute | undefined)[];
  /** Calls (probe runs for a probe) in the whole window: what "busiest" means. */
  calls: number;
  /** Its calls summed over the hour before the window, when a rule reads baseline() (baseline-window.ts). */
  baseline?: MetricValues;
}

export interface AnalysisWindow {
  fromMs: number;
  toMs: number;
  minuteCount: number;
  entities: Record<RuleScope, EntityWindow[]>;
  skipped: Record<RuleScope, number>;
}

export interface WindowReadOptions {
  nowMs: number;
  /** Minutes up to and including the current (partial) one. */
  minuteCount: number;
  maxEntitiesPerScope: number;
  /** Probe results read to map probes to services. */
  maxProbeResults?: number;
  /** Minutes before the window read as each entity's baseline; 0 or absent: none (no rule reads one). */
  baselineMinutes?: number;
}

const MINUTE_MS = 60_000;
const METRIC_SCOPES: readonly MetricScope[] = ["service", "instance", "endpoint", "relation"];

export async function readAnalysisWindow(
  reader: Pick<StorageReader, "busiestSeries" | "probeSeries" | "queryProbeResults">,
  options: WindowReadOptions,
): Promise<AnalysisWindow> {
  const toMs = Math.floor(options.nowMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const fromMs = toMs - options.minuteCount * MINUTE_MS;
  const window: AnalysisWindow = {
    fromMs,
    toMs,
    minuteCount: options.minuteCount,
    entities: { service: [], instance: [], endpoint: [], relation: [], probe: [] },
    skipped: { service: 0, instance: 0, endpoint: 0, relation: 0, probe: 0 },
  };
  const queries = METRIC_SCOPES.map((scope) => reader.busiestSeries({ scope, fromMs, toMs, resolution: "minute", limit: options.maxEntitiesPerScope, groupByTime: true }));
  const results = await Promise.all(queries);
  METRIC_SCOPES.forEach((scope, index) => {
    const busiest = results[index] ?? { rows: [], entityCount: 0 };
    const kept = groupByEntity(scope, busiest.rows, window);
    window.entities[scope] = kept;
    window.skipped[scope] = busiest.entityCount - kept.length;
  });
  await attachProbes(reader, window, options.maxEntitiesPerScope, options.maxProbeResults ?? 1_000);
  if ((options.baselineMinutes ?? 0) > 0) await attachBaselines(reader, window, options.maxEntitiesPerScope, options.baselineMinutes);
  return window;
}

export function minuteIndexOf(window: Pick<AnalysisWindow, "fromMs" | "minuteCount">, timeMs: number): number | undefined {
  const index = Math.floor((timeMs - window.fromMs) / MINUTE_MS);
  return index >= 0 && index < window.minuteCount ? index : undefined;
}

interface Grouped {
  window: EntityWindow;
  /** Relations: rows of the other detect point, used only when the client side reported nothing. */
  serverMinutes?: (MetricValues | undefined)[];
}

function groupByEntity(scope: MetricScope, rows: readonly MetricAggregate[], window: AnalysisWindow): EntityWindow[] {
  const groups = new Map<string, Grouped>();
  for (const row of rows) {
    const index = minuteIndexOf(window, row.timeMs);
    if (index === undefined) continue;
    const key = `${row.service}\u0000${row.name}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { window: describeEntity(scope, row, window.minuteCount) };
      groups.set(key, group);
    }
    // A relation is seen by both proxies; counting both would double it. The caller's side (client) also
    // sees connection failures the callee never logs, so it wins; the server side stands in when alone.
    const isServerSideOfRelation = scope === "relation" && row.detectPoint === "server";
    const slots = isServerSideOfRelation ? (group.serverMinutes ??= new Array<MetricValues | undefined>(window.minuteCount).fill(undefined)) : group.window.minutes;
    const existing = slots[index];
    slots[index] = existing === undefined ? row : sumMetricValues([existing, row]);
    if (!isServerSideOfRelation) group.window.calls += row.calls;
  }
  return [...groups.values()].map((group) => {
    if (group.serverMinutes && group.window.minutes.every((slot) => slot === undefined)) {
      group.window.minutes = group.serverMinutes;
      group.window.calls = group.serverMinutes.reduce((total, slot) => total + (slot?.calls ?? 0), 0);
    }
    return group.window;
  });
}

function describeEntity(scope: MetricScope, row: MetricAggregate, minuteCount: number): EntityWindow {
  const empty = { minutes: new Array<MetricValues | undefined>(minuteCount).fill(undefined), probes: new Array<ProbeMinute | undefined>(minuteCount).fill(undefined), calls: 0 };
  switch (scope) {
    case "service":
      return { scope, entity: row.service, service: row.service, labels: { service: row.service }, ...empty };
    case "instance":
      return { scope, entity: row.name, service: row.service, labels: { service: row.service, instance: row.name }, ...empty };
    case "endpoint":
      return { scope, entity: `${row.name} in ${row.service}`, service: row.service, labels: { service: row.service, endpoint: row.name }, ...empty };
    case "relation":
      return { scope, entity: `${row.service} to ${row.name}`, service: row.service, labels: { service: row.service, source: row.service, destination: row.name }, ...empty };
  }
}

/** Busiest first (ties by name, so the same entities are kept round after round). */
export function keepBusiest(entities: EntityWindow[], limit: number): EntityWindow[] {
  if (entities.length <= limit) return entities;
  return [...entities].sort((a, b) => b.calls - a.calls || a.entity.localeCompare(b.entity)).slice(0, limit);
}
