import type { MetricKey } from "./metrics.ts";

/**
 * Both proxies of a call in the mesh report it: the caller's as the client side of the relation, the
 * callee's as the server side (docs/architecture.md, "Dimensions"). Adding the two counts every call twice,
 * so every reader of a relation without a chosen detect point keeps one side per caller and callee pair,
 * decided over the whole range it reads: the server side when the callee's proxy reported the pair at all
 * (the callee's own measure, the same calls its service metrics count), else the client side, the only
 * view of a callee without a proxy (a database, a host outside the mesh). The topology, metric series and
 * alarm rules all read relations through this one rule, so an edge and its series never disagree.
 */
export function countedRelationRows<Row extends Pick<MetricKey, "service" | "name" | "detectPoint"> & { calls: number }>(rows: readonly Row[]): Row[] {
  const pairsWithServerSide = new Set<string>();
  for (const row of rows) if (row.detectPoint === "server" && row.calls > 0) pairsWithServerSide.add(pairKey(row));
  return rows.filter((row) => row.detectPoint === (pairsWithServerSide.has(pairKey(row)) ? "server" : "client"));
}

function pairKey(row: Pick<MetricKey, "service" | "name">): string {
  return `${row.service}\u0000${row.name}`;
}
