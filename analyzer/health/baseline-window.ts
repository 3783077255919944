import type { MetricAggregate, MetricScope, MetricValues } from "../../core/model/metrics.ts";
import { sumMetricValues } from "../../core/model/metrics.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import type { AnalysisWindow, EntityWindow } from "./analysis-window.ts";

/**
 * Each entity's baseline for `baseline()` in rules: its calls in the hour before the analysis window,
 * summed by the store (one query per scope, one row per entity and side). Nothing is kept between rounds, so
 * baselines survive restarts and replicas agree; they exist only for the entities the round keeps, so
 * they are bounded like the window. The hour ends where the window starts: a regression inside the
 * window never raises its own baseline. Minute rows, not the hour rollup: the current clock hour's
 * rollup already holds the regression, and the previous one is up to two hours old.
 */

export const BASELINE_MINUTES = 60;
const MINUTE_MS = 60_000;
const METRIC_SCOPES: readonly MetricScope[] = ["service", "instance", "endpoint", "relation"];

export async function attachBaselines(reader: Pick<StorageReader, "busiestSeries">, window: AnalysisWindow, maxEntitiesPerScope: number, minutes = BASELINE_MINUTES): Promise<void> {
  const toMs = window.fromMs;
  const fromMs = toMs - minutes * MINUTE_MS;
  // Ranked by the window, as the window's entities were: storage returns the baselines of those (and of
  // none beyond the bound), whatever the number of entities in the hour before.
  const rankedBy = { fromMs: window.fromMs, toMs: window.toMs };
  const results = await Promise.all(
    METRIC_SCOPES.map(async (scope) => (await reader.busiestSeries({ scope, fromMs, toMs, rankedBy, resolution: "minute", limit: maxEntitiesPerScope, groupByTime: false })).rows),
  );
  METRIC_SCOPES.forEach((scope, index) => {
    const byKey = new Map<string, EntityWindow>(window.entities[scope].map((entity) => [entityKey(entity), entity]));
    const clientSide = new Map<string, MetricValues[]>();
    const serverSide = new Map<string, MetricValues[]>();
    for (const row of results[index] ?? []) {
      const key = `${row.service}\u0000${row.name}`;
      if (!byKey.has(key)) continue;
      // As in the window: a relation is the caller's side, the callee's only when the caller reported nothing.
      const side = scope === "relation" && row.detectPoint === "server" ? serverSide : clientSide;
      appendTo(side, key, row);
    }
    for (const [key, entity] of byKey) {
      const rows = clientSide.get(key) ?? serverSide.get(key);
      if (rows !== undefined) entity.baseline = sumMetricValues(rows);
    }
  });
}

/** The store's key of a window entity: service and name, as analysis-window.ts groups rows. */
function entityKey(entity: EntityWindow): string {
  switch (entity.scope) {
    case "instance":
      return `${entity.service}\u0000${entity.labels.instance ?? ""}`;
    case "endpoint":
      return `${entity.service}\u0000${entity.labels.endpoint ?? ""}`;
    case "relation":
      return `${entity.service}\u0000${entity.labels.destination ?? ""}`;
    default:
      return `${entity.service}\u0000`;
  }
}

function appendTo(map: Map<string, MetricValues[]>, key: string, row: MetricAggregate): void {
  const rows = map.get(key);
  if (rows === undefined) map.set(key, [row]);
  else rows.push(row);
}
