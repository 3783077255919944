import { z } from "zod";
import { identifierField, integerField, optionalUrlField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

const days = (defaultDays: number) => integerField(1, 3_650).default(defaultDays);

export const storageSection = defineSection(
  z.strictObject({
    dataDir: textField("./data"),
    clickhouse: z
      .strictObject({
        url: optionalUrlField(["http", "https"]),
        database: identifierField("meshsight"),
      })
      .prefault({}),
    retention: z
      .strictObject({
        minuteDays: days(7),
        hourDays: days(30),
        dayDays: days(365),
        samplesDays: days(3),
        spansDays: days(7),
        probeResultsDays: days(14),
      })
      .prefault({}),
  }),
  [
    {
      key: "dataDir",
      env: "MESHSIGHT_DATA_DIR",
      flag: "data-dir",
      description: "Directory of local state: the embedded DuckDB file (meshsight.duckdb, unused with ClickHouse), tailed-log offsets and probe cases defined through the API.",
    },
    {
      key: "clickhouse.url",
      env: "MESHSIGHT_CLICKHOUSE_URL",
      flag: "clickhouse-url",
      description: "ClickHouse HTTP URL (http://user:password@host:8123); when set, ClickHouse replaces the embedded DuckDB.",
    },
    { key: "clickhouse.database", env: "MESHSIGHT_CLICKHOUSE_DATABASE", flag: "clickhouse-database", description: "ClickHouse database, created at start when missing." },
    { key: "retention.minuteDays", env: "MESHSIGHT_RETENTION_MINUTE_DAYS", flag: "retention-minute-days", description: "Days minute metrics are kept." },
    { key: "retention.hourDays", env: "MESHSIGHT_RETENTION_HOUR_DAYS", flag: "retention-hour-days", description: "Days hourly rollups are kept." },
    { key: "retention.dayDays", env: "MESHSIGHT_RETENTION_DAY_DAYS", flag: "retention-day-days", description: "Days daily rollups are kept." },
    { key: "retention.samplesDays", env: "MESHSIGHT_RETENTION_SAMPLES_DAYS", flag: "retention-samples-days", description: "Days sampled raw records are kept." },
    { key: "retention.spansDays", env: "MESHSIGHT_RETENTION_SPANS_DAYS", flag: "retention-spans-days", description: "Days trace spans are kept." },
    {
      key: "retention.probeResultsDays",
      env: "MESHSIGHT_RETENTION_PROBE_RESULTS_DAYS",
      flag: "retention-probe-results-days",
      description: "Days probe results are kept.",
    },
  ],
);
