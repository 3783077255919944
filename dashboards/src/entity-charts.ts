import type * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { clickHouseTimeSeries } from "./panels.ts";
import { BUCKET_MINUTES, TIME_BUCKET, summarize } from "./sql.ts";

/**
 * The four charts the service, instance, endpoint and relation dashboards all show for their entity:
 * load, SLA, apdex and latency percentiles, each over the panel interval.
 */
export function entityCharts(where: string): timeseries.PanelBuilder[] {
  const series = (columns: Parameters<typeof summarize>[0]["columns"]): string =>
    summarize({ keys: [TIME_BUCKET], where, columns, minutes: BUCKET_MINUTES, orderBy: "t" });
  return [
    clickHouseTimeSeries("Load (calls per minute)", series(["cpm"]), "reqpm", { width: 8 }),
    clickHouseTimeSeries("SLA (success %)", series(["sla"]), "percent", { width: 8 }).min(0).max(100),
    clickHouseTimeSeries("Apdex", series(["apdex"]), "none", { width: 8 }).min(0).max(1),
    clickHouseTimeSeries("Latency percentiles", series(["p50", "p75", "p90", "p95", "p99"]), "ms", { width: 16 }),
    clickHouseTimeSeries("Errors", series(["errors"]), "short", { width: 8 }),
  ];
}
