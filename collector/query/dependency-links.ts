import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import { RESOLUTION_MS } from "../../core/model/metrics.ts";
import { countedRelationRows } from "../../core/model/relation-sides.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import { defaultResolution } from "./time-range.ts";

/** Calls from one service to another over a range: what Zipkin's and Jaeger's dependency APIs list. */
export interface DependencyLink {
  parent: string;
  child: string;
  callCount: number;
  errorCount: number;
}

/**
 * Service links from the mesh's relation metrics rather than from stored spans: they count every call the
 * sidecars and the (unsampled) span metrics saw, one count per call (countedRelationRows), where a span
 * store holds only the traces tail sampling kept. Links with an unnamed end are left out, as Zipkin's
 * DependencyLinker skips a link without both service names
 * (https://github.com/openzipkin/zipkin/blob/master/zipkin/src/main/java/zipkin2/internal/DependencyLinker.java).
 * The range widens to whole buckets of the resolution read, so long lookbacks read the hour or day rollups.
 */
export async function dependencyLinks(reader: Pick<StorageReader, "queryMetrics">, fromMs: number, toMs: number): Promise<DependencyLink[]> {
  const resolution = defaultResolution({ fromMs, toMs });
  const step = RESOLUTION_MS[resolution];
  const rows = await reader.queryMetrics({
    scope: "relation",
    fromMs: Math.floor(fromMs / step) * step,
    toMs: Math.ceil(toMs / step) * step,
    resolution,
    groupByTime: false,
  });
  const links = new Map<string, DependencyLink>();
  for (const row of countedRelationRows(rows)) {
    if (row.service === UNKNOWN_SERVICE || row.name === UNKNOWN_SERVICE || row.calls === 0) continue;
    const key = `${row.service}\u0000${row.name}`;
    const link = links.get(key) ?? { parent: row.service, child: row.name, callCount: 0, errorCount: 0 };
    link.callCount += row.calls;
    link.errorCount += row.errors;
    links.set(key, link);
  }
  return [...links.values()].sort((a, b) => a.parent.localeCompare(b.parent) || a.child.localeCompare(b.child));
}
