-- meshsight embedded storage, version 4: the ids of metric writes, each inserted in the transaction that
-- adds its rows, so a write retried after a crash can be told apart from one that never happened
-- (docs/deploy.md, "Crash recovery"). Kept as long as minute rows; retention drops older ids.
CREATE TABLE metric_writes (
  write_id   BIGINT NOT NULL PRIMARY KEY,
  written_ms BIGINT NOT NULL
);
