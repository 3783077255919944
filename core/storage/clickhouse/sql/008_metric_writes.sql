-- The ids of the writes that added to each minute row (core/storage/clickhouse/rows.ts, `writesMap`): a
-- column of metrics_minute, so a write's id lands in the same part as its rows, and a Nested column whose
-- name ends in `Map`, so SummingMergeTree sums it by id and a merged row keeps every id. A write retried
-- after a crash asks for its id first (docs/deploy.md, "Crash recovery"). The rollups do not need it.
-- 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner takes "already exists" as applied.
ALTER TABLE {{database}}.metrics_minute ADD COLUMN writesMap Nested(id UInt64, count UInt64);
