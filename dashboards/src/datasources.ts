import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";

/**
 * Every panel names its data source through a dashboard variable, never a fixed uid: an imported
 * dashboard then works against whatever data sources the user already has (the variable lists them by
 * plugin type), and the provisioned ones (dashboards/provisioning/datasources) are the defaults.
 */
export interface DataSourceKind {
  /** The dashboard variable holding the chosen data source's uid. */
  variable: string;
  /** Grafana plugin id. */
  pluginType: string;
  label: string;
  /** The uid dashboards/provisioning gives this data source. */
  provisionedUid: string;
}

export const CLICKHOUSE: DataSourceKind = { variable: "ds_clickhouse", pluginType: "grafana-clickhouse-datasource", label: "ClickHouse", provisionedUid: "meshsight-clickhouse" };
export const PROMETHEUS: DataSourceKind = { variable: "ds_prometheus", pluginType: "prometheus", label: "Prometheus", provisionedUid: "meshsight-prometheus" };
export const ZIPKIN: DataSourceKind = { variable: "ds_zipkin", pluginType: "zipkin", label: "Zipkin (meshsight)", provisionedUid: "meshsight-zipkin" };
/** meshsight's own JSON API through the Infinity plugin: alerts live there until storage has an alerts table. */
export const MESHSIGHT_API: DataSourceKind = { variable: "ds_meshsight_api", pluginType: "yesoreyeram-infinity-datasource", label: "meshsight API", provisionedUid: "meshsight-api" };

export function dataSourceRef(kind: DataSourceKind): dashboard.DataSourceRef {
  return { type: kind.pluginType, uid: `\${${kind.variable}}` };
}

export function dataSourceVariable(kind: DataSourceKind): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(kind.variable)
    .label(kind.label)
    .type(kind.pluginType)
    .current({ selected: true, text: kind.provisionedUid, value: kind.provisionedUid });
}
