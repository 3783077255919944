import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { allDashboards } from "../../dashboards/src/all-dashboards.ts";
import { isClickHouseQuery, type ClickHouseSqlQuery } from "../../dashboards/src/queries.ts";

/** Every panel of a built dashboard, those inside collapsed rows included. */
export function panelsOf(built: dashboard.Dashboard): dashboard.Panel[] {
  return (built.panels ?? []).flatMap((panel) => ("targets" in panel || panel.type !== "row" ? [panel as dashboard.Panel] : ((panel as dashboard.RowPanel).panels ?? [])));
}

export interface ClickHousePanelQuery {
  file: string;
  panel: string;
  panelType: string;
  query: ClickHouseSqlQuery;
}

export function clickHouseQueries(): { file: string; built: dashboard.Dashboard; queries: ClickHousePanelQuery[] }[] {
  return allDashboards().map(({ file, dashboard: built }) => ({
    file,
    built,
    queries: panelsOf(built).flatMap((panel) =>
      (panel.targets ?? []).filter(isClickHouseQuery).map((query) => ({ file, panel: panel.title ?? "", panelType: panel.type, query })),
    ),
  }));
}

export interface ClickHouseVariable {
  name: string;
  sql: string;
  multiWithAll: boolean;
}

/** Query variables on the ClickHouse data source, in dashboard order (later ones may use earlier ones). */
export function clickHouseVariables(built: dashboard.Dashboard): ClickHouseVariable[] {
  return (built.templating?.list ?? []).flatMap((variable) => {
    const query = variable.query;
    if (String(variable.type) !== "query" || variable.datasource?.type !== "grafana-clickhouse-datasource" || typeof query !== "object") return [];
    return [{ name: variable.name, sql: String((query as { rawSql?: unknown }).rawSql), multiWithAll: variable.multi === true && variable.includeAll === true }];
  });
}
