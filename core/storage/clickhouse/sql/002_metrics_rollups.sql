-- Hour and day rollups. The views see each block inserted into metrics_minute and copy it with the
-- time truncated; the SummingMergeTree tables sum rows of the same bucket on merge, and reads
-- aggregate anyway, so the views need no GROUP BY of their own.
-- Partitioned by day like every table, so retention on servers without TTL drops whole days.
-- The engine is spelled out (the same as metrics_minute's) because cluster mode makes it Replicated,
-- and a copied Replicated engine would share metrics_minute's ZooKeeper path.
CREATE TABLE IF NOT EXISTS {{database}}.metrics_hour AS {{database}}.metrics_minute
ENGINE = SummingMergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (scope, service, name, detect_point, component, time);

CREATE TABLE IF NOT EXISTS {{database}}.metrics_day AS {{database}}.metrics_minute
ENGINE = SummingMergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (scope, service, name, detect_point, component, time);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.metrics_hour_mv TO {{database}}.metrics_hour AS
SELECT
  toStartOfHour(time) AS time,
  scope, service, name, detect_point, component,
  calls, errors, latency_sum_ms, apdex_satisfied, apdex_tolerating, bytes_in, bytes_out,
  histogramMap.bucket, histogramMap.count
FROM {{database}}.metrics_minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.metrics_day_mv TO {{database}}.metrics_day AS
SELECT
  toStartOfDay(time) AS time,
  scope, service, name, detect_point, component,
  calls, errors, latency_sum_ms, apdex_satisfied, apdex_tolerating, bytes_in, bytes_out,
  histogramMap.bucket, histogramMap.count
FROM {{database}}.metrics_minute;
