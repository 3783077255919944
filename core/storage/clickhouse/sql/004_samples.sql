-- Sampled raw records. DateTime has seconds precision on 18.16 (no DateTime64), so `time` serves
-- partitioning and the primary key and `time_ms` keeps the exact time for ordering and filters.
CREATE TABLE IF NOT EXISTS {{database}}.samples (
  time DateTime('UTC'),
  time_ms UInt64,
  service String,
  instance String,
  endpoint String,
  detect_point {{lowCardinalityString}},
  peer_service String,
  response_code UInt32,
  response_flags String,
  is_error UInt8,
  latency_ms Float64,
  reason {{lowCardinalityString}},
  request_id String,
  trace_id String,
  raw String
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (service, time);
