-- meshsight embedded storage, version 5: the metrics tables without their primary key. DuckDB updates a
-- row with list columns (the histograms) by deleting and reinserting it, index entries included, so every
-- flush paid ~35 us per existing key for the five-text-column key index (bench/README.md, flush). Keys stay
-- unique because the one writer connection adds rows by UPDATE of stored keys, then INSERT of the others
-- (metrics-writer.ts), in one transaction.
CREATE TABLE metrics_minute_unkeyed (
  scope             VARCHAR     NOT NULL,
  service           VARCHAR     NOT NULL,
  name              VARCHAR     NOT NULL,
  detect_point      VARCHAR     NOT NULL,
  component         VARCHAR     NOT NULL,
  time_ms           BIGINT      NOT NULL,
  calls             BIGINT      NOT NULL,
  errors            BIGINT      NOT NULL,
  latency_sum_ms    DOUBLE      NOT NULL,
  apdex_satisfied   BIGINT      NOT NULL,
  apdex_tolerating  BIGINT      NOT NULL,
  bytes_in          BIGINT      NOT NULL,
  bytes_out         BIGINT      NOT NULL,
  histogram_buckets USMALLINT[] NOT NULL,
  histogram_counts  UBIGINT[]   NOT NULL
);
INSERT INTO metrics_minute_unkeyed SELECT * FROM metrics_minute;
DROP TABLE metrics_minute;
ALTER TABLE metrics_minute_unkeyed RENAME TO metrics_minute;

CREATE TABLE metrics_hour_unkeyed (
  scope             VARCHAR     NOT NULL,
  service           VARCHAR     NOT NULL,
  name              VARCHAR     NOT NULL,
  detect_point      VARCHAR     NOT NULL,
  component         VARCHAR     NOT NULL,
  time_ms           BIGINT      NOT NULL,
  calls             BIGINT      NOT NULL,
  errors            BIGINT      NOT NULL,
  latency_sum_ms    DOUBLE      NOT NULL,
  apdex_satisfied   BIGINT      NOT NULL,
  apdex_tolerating  BIGINT      NOT NULL,
  bytes_in          BIGINT      NOT NULL,
  bytes_out         BIGINT      NOT NULL,
  histogram_buckets USMALLINT[] NOT NULL,
  histogram_counts  UBIGINT[]   NOT NULL
);
INSERT INTO metrics_hour_unkeyed SELECT * FROM metrics_hour;
DROP TABLE metrics_hour;
ALTER TABLE metrics_hour_unkeyed RENAME TO metrics_hour;

CREATE TABLE metrics_day_unkeyed (
  scope             VARCHAR     NOT NULL,
  service           VARCHAR     NOT NULL,
  name              VARCHAR     NOT NULL,
  detect_point      VARCHAR     NOT NULL,
  component         VARCHAR     NOT NULL,
  time_ms           BIGINT      NOT NULL,
  calls             BIGINT      NOT NULL,
  errors            BIGINT      NOT NULL,
  latency_sum_ms    DOUBLE      NOT NULL,
  apdex_satisfied   BIGINT      NOT NULL,
  apdex_tolerating  BIGINT      NOT NULL,
  bytes_in          BIGINT      NOT NULL,
  bytes_out         BIGINT      NOT NULL,
  histogram_buckets USMALLINT[] NOT NULL,
  histogram_counts  UBIGINT[]   NOT NULL
);
INSERT INTO metrics_day_unkeyed SELECT * FROM metrics_day;
DROP TABLE metrics_day;
ALTER TABLE metrics_day_unkeyed RENAME TO metrics_day;
