-- Minute aggregates, one row per entity key and minute as written; rows with the same key merge by
-- summing. SummingMergeTree over AggregatingMergeTree: the collector inserts plain JSONEachRow rows
-- (no -State values to build client-side), reads are plain sum/sumMap, and the rollups below are
-- simple materialized views. The histogram is a Nested column whose name ends in `Map`, which
-- SummingMergeTree sums by bucket key (a plain Array column is NOT summed on 18.16).
-- Merges are eventual: every read aggregates with GROUP BY.
CREATE TABLE IF NOT EXISTS {{database}}.metrics_minute (
  time DateTime('UTC'),
  scope {{lowCardinalityString}},
  service String,
  name String,
  detect_point {{lowCardinalityString}},
  component {{lowCardinalityString}},
  calls UInt64,
  errors UInt64,
  latency_sum_ms Float64,
  apdex_satisfied UInt64,
  apdex_tolerating UInt64,
  bytes_in UInt64,
  bytes_out UInt64,
  histogramMap Nested(bucket UInt16, count UInt64)
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (scope, service, name, detect_point, component, time);
