-- One row per run of a probe case against a target; append-only. `time` (seconds) partitions and keys,
-- started_ms keeps the exact start. Phases and labels are parallel arrays (no Map on 18.16).
CREATE TABLE IF NOT EXISTS {{database}}.probe_results (
  time DateTime('UTC'),
  started_ms UInt64,
  run_id String,
  probe String,
  kind {{lowCardinalityString}},
  target String,
  service String,
  status {{lowCardinalityString}},
  duration_ms Float64,
  phase_names Array(String),
  phase_ms Array(Float64),
  message String,
  attempt UInt32,
  label_keys Array(String),
  label_values Array(String)
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (probe, target, time);
