import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { CLICKHOUSE, MESHSIGHT_API, dataSourceRef } from "./datasources.ts";

/**
 * Query models of the data sources the foundation SDK has no builder for. Field names follow each
 * plugin's own query type: grafana/clickhouse-datasource src/types/sql.ts (CHSqlQuery) and the
 * Infinity plugin's URL queries.
 */

/** sqlutil.FormatQueryOption in grafana-plugin-sdk-go: how the ClickHouse backend shapes the frame. */
export enum ClickHouseFormat {
  TimeSeries = 0,
  Table = 1,
}

export interface ClickHouseSqlQuery extends cog.Dataquery {
  refId: string;
  datasource: dashboard.DataSourceRef;
  editorType: "sql";
  pluginVersion: string;
  rawSql: string;
  format: ClickHouseFormat;
  queryType: "table" | "timeseries";
}

export function isClickHouseQuery(query: cog.Dataquery): query is ClickHouseSqlQuery {
  return (query as Partial<ClickHouseSqlQuery>).editorType === "sql" && typeof (query as Partial<ClickHouseSqlQuery>).rawSql === "string";
}

export class ClickHouseQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly query: ClickHouseSqlQuery;

  constructor(rawSql: string, format: ClickHouseFormat = ClickHouseFormat.Table) {
    this.query = {
      refId: "A",
      datasource: dataSourceRef(CLICKHOUSE),
      editorType: "sql",
      pluginVersion: "4.0.0",
      rawSql: rawSql.trim(),
      format,
      queryType: format === ClickHouseFormat.TimeSeries ? "timeseries" : "table",
      _implementsDataqueryVariant: () => undefined,
    };
  }

  refId(refId: string): this {
    this.query.refId = refId;
    return this;
  }

  build(): cog.Dataquery {
    return this.query;
  }
}

export interface InfinityColumn {
  selector: string;
  text: string;
  type: "string" | "number" | "timestamp_epoch";
}

export interface InfinityUrlQuery extends cog.Dataquery {
  refId: string;
  datasource: dashboard.DataSourceRef;
  type: "json";
  source: "url";
  parser: "backend";
  format: "table";
  /** Relative to the data source's base URL (meshsight's HTTP API). */
  url: string;
  url_options: { method: "GET"; params: { key: string; value: string }[] };
  root_selector: string;
  columns: InfinityColumn[];
}

export function infinityQuery(url: string, params: Record<string, string>, columns: InfinityColumn[]): InfinityUrlQuery {
  return {
    refId: "A",
    datasource: dataSourceRef(MESHSIGHT_API),
    type: "json",
    source: "url",
    parser: "backend",
    format: "table",
    url,
    url_options: { method: "GET", params: Object.entries(params).map(([key, value]) => ({ key, value })) },
    root_selector: "",
    columns,
    _implementsDataqueryVariant: () => undefined,
  };
}

export class InfinityQueryBuilder implements cog.Builder<cog.Dataquery> {
  constructor(private readonly query: InfinityUrlQuery) {}

  build(): cog.Dataquery {
    return this.query;
  }
}
