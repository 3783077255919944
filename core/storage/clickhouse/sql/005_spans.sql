-- The trace store, after the OpenTelemetry ClickHouse exporter's schema (otel_traces and
-- otel_traces_trace_id_ts). DateTime has seconds precision on 18.16, so `time` (start, seconds) serves
-- partitioning and the key while start_time_ns / duration_ns keep the exact times. 18.16 has no Map:
-- attributes are parallel key and value arrays.
-- ReplacingMergeTree drops a span written twice (same key, same content) on merge; merges are eventual,
-- so reads also de-duplicate by (trace_id, span_id).
CREATE TABLE IF NOT EXISTS {{database}}.spans (
  time DateTime('UTC'),
  start_time_ns UInt64,
  duration_ns UInt64,
  trace_id String,
  span_id String,
  parent_span_id String,
  name String,
  kind {{lowCardinalityString}},
  service String,
  instance String,
  endpoint String,
  peer_service String,
  is_error UInt8,
  status_message String,
  attr_keys Array(String),
  attr_values Array(String),
  resource_attr_keys Array(String),
  resource_attr_values Array(String)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (service, name, time, trace_id, span_id);
-- Where each trace lives in time, so getTrace reads only the partitions and granules of its spans
-- instead of scanning every day for one trace id. Each inserted block adds one row per trace; readers
-- take min(time) and max(end_time) over them. `time` is the earliest start (it partitions the index,
-- and retention drops it with the spans), end_time the latest end.
CREATE TABLE IF NOT EXISTS {{database}}.trace_index (
  time DateTime('UTC'),
  end_time DateTime('UTC'),
  trace_id String
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (trace_id, time);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.trace_index_mv TO {{database}}.trace_index AS
SELECT
  toDateTime(intDiv(min(start_time_ns), 1000000000), 'UTC') AS time,
  toDateTime(intDiv(max(start_time_ns + duration_ns), 1000000000), 'UTC') AS end_time,
  trace_id
FROM {{database}}.spans
GROUP BY trace_id;
