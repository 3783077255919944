import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { CLICKHOUSE, PROMETHEUS, dataSourceRef } from "./datasources.ts";
import { ClickHouseFormat, ClickHouseQueryBuilder } from "./queries.ts";

/** Panel helpers every dashboard shares, so units, intervals and data sources stay consistent. */

const FULL_WIDTH = 24;

/** Minute rows are the finest data: a smaller interval would only draw gaps. */
const CLICKHOUSE_MIN_INTERVAL = "1m";

export interface PanelSize {
  width?: number;
  height?: number;
}

export function clickHouseTimeSeries(title: string, sql: string, unit: string, size: PanelSize = {}): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .datasource(dataSourceRef(CLICKHOUSE))
    .withTarget(new ClickHouseQueryBuilder(sql, ClickHouseFormat.TimeSeries))
    .interval(CLICKHOUSE_MIN_INTERVAL)
    .unit(unit)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true))
    .span(size.width ?? 12)
    .height(size.height ?? 8);
}

export function clickHouseTable(title: string, sql: string, size: PanelSize = {}): table.PanelBuilder {
  return new table.PanelBuilder()
    .title(title)
    .datasource(dataSourceRef(CLICKHOUSE))
    .withTarget(new ClickHouseQueryBuilder(sql, ClickHouseFormat.Table))
    .interval(CLICKHOUSE_MIN_INTERVAL)
    .span(size.width ?? FULL_WIDTH)
    .height(size.height ?? 8);
}

export function clickHouseStat(title: string, sql: string, unit: string, size: PanelSize = {}): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .datasource(dataSourceRef(CLICKHOUSE))
    .withTarget(new ClickHouseQueryBuilder(sql, ClickHouseFormat.Table))
    .unit(unit)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .span(size.width ?? 6)
    .height(size.height ?? 4);
}

export interface PromSeries {
  expr: string;
  legend: string;
}

export function prometheusTimeSeries(title: string, series: PromSeries[], unit: string, size: PanelSize = {}): timeseries.PanelBuilder {
  const targets: cog.Builder<cog.Dataquery>[] = series.map((one, index) =>
    new prometheus.DataqueryBuilder()
      .expr(one.expr)
      .legendFormat(one.legend)
      .range()
      .refId(String.fromCharCode(65 + index))
      .datasource(dataSourceRef(PROMETHEUS)),
  );
  return new timeseries.PanelBuilder()
    .title(title)
    .datasource(dataSourceRef(PROMETHEUS))
    .targets(targets)
    .unit(unit)
    .lineWidth(1)
    .fillOpacity(10)
    .span(size.width ?? 12)
    .height(size.height ?? 8);
}

/** Green above `good`, orange above `warn`, red below: SLA, apdex, health, probe success. */
export function higherIsBetter(warn: number, good: number): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
    { value: null, color: "red" },
    { value: warn, color: "orange" },
    { value: good, color: "green" },
  ]);
}

/** Table column shown as a coloured cell by the thresholds. */
export function coloredCell(): dashboard.DynamicConfigValue {
  return { id: "custom.cellOptions", value: { type: common.TableCellDisplayMode.ColorText } };
}

export function unitOf(unit: string): dashboard.DynamicConfigValue {
  return { id: "unit", value: unit };
}

export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title);
}
