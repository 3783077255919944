import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { CLICKHOUSE, dataSourceRef, dataSourceVariable, type DataSourceKind } from "./datasources.ts";

/**
 * Template variables filled by ClickHouse queries. The ClickHouse data source inserts a single value as
 * is and a multi value as 'a','b' (CHDatasource.format), so single-value variables are quoted in SQL
 * ('${service}') and multi-value ones are used inside IN (...) behind $__conditionalAll.
 */

export interface VariableOptions {
  label: string;
  multiWithAll?: boolean;
}

export function clickHouseVariable(name: string, sql: string, options: VariableOptions): dashboard.QueryVariableBuilder {
  const variable = new dashboard.QueryVariableBuilder(name)
    .label(options.label)
    .datasource(dataSourceRef(CLICKHOUSE))
    .query({ editorType: "sql", rawSql: sql })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
  return options.multiWithAll === true ? variable.multi(true).includeAll(true) : variable;
}

export const SERVICE_VARIABLE_SQL = "SELECT DISTINCT service FROM metrics_minute WHERE scope = 'service' AND $__timeFilter(time) ORDER BY service";

export function serviceVariable(): dashboard.QueryVariableBuilder {
  return clickHouseVariable("service", SERVICE_VARIABLE_SQL, { label: "Service" });
}

export function instanceVariable(): dashboard.QueryVariableBuilder {
  return clickHouseVariable(
    "instance",
    "SELECT DISTINCT name FROM metrics_minute WHERE scope = 'instance' AND service = '${service}' AND $__timeFilter(time) ORDER BY name",
    { label: "Instance" },
  );
}

export function endpointVariable(): dashboard.QueryVariableBuilder {
  return clickHouseVariable(
    "endpoint",
    "SELECT DISTINCT name FROM metrics_minute WHERE scope = 'endpoint' AND service = '${service}' AND $__timeFilter(time) ORDER BY name",
    { label: "Endpoint" },
  );
}

/** The data source variables a dashboard's panels use, listed first so the rest can query through them. */
export function dataSourceVariables(...kinds: DataSourceKind[]): dashboard.DatasourceVariableBuilder[] {
  return kinds.map(dataSourceVariable);
}
