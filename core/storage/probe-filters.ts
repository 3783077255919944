import type { ProbeResultQuery, ProbeSeriesQuery } from "./port.ts";

/**
 * The exact-match filters of both probe reads, as (column, value) pairs for the ones the query sets:
 * both adapters bind them their own way, but which query field filters which column is one decision.
 */
export function probeEqualityFilters(query: ProbeResultQuery | ProbeSeriesQuery): [column: string, value: string][] {
  const filters: [string, string | undefined][] = [
    ["probe", query.probe],
    ["target", query.target],
    ["service", query.service],
    ["status", "status" in query ? query.status : undefined],
  ];
  return filters.filter((filter): filter is [string, string] => filter[1] !== undefined);
}
