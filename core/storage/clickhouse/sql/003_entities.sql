-- Services, instances and endpoints as last seen. ReplacingMergeTree keeps the row with the highest
-- last_seen_ms per key, eventually: reads use argMax(..., last_seen_ms) so they are right before merges.
-- Attributes are a JSON object in a String: they are only displayed, never filtered on.
CREATE TABLE IF NOT EXISTS {{database}}.entities (
  kind {{lowCardinalityString}},
  service String,
  name String,
  layer {{lowCardinalityString}},
  attributes String,
  last_seen_ms UInt64
) ENGINE = ReplacingMergeTree(last_seen_ms)
ORDER BY (kind, service, name);
