-- Entity attributes, one row per key: a later entity row with fewer attributes (a span-derived instance
-- after the ALS stream described it) must not blank the others, and `entities` keeps only its latest
-- row per entity once merged. Here each key keeps its own latest value: ReplacingMergeTree per
-- (kind, service, name, key), read with argMax(value, last_seen_ms) so reads are right before merges.
CREATE TABLE IF NOT EXISTS {{database}}.entity_attributes (
  kind {{lowCardinalityString}},
  service String,
  name String,
  key String,
  value String,
  last_seen_ms UInt64
) ENGINE = ReplacingMergeTree(last_seen_ms)
ORDER BY (kind, service, name, key);
