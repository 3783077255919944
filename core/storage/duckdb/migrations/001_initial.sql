-- meshsight embedded storage, version 1.
-- Times are epoch milliseconds (BIGINT) so no timezone setting can shift a bucket.
-- The three metrics tables share one shape: minute rows as the collector writes them, and hour / day
-- rollups the adapter maintains on write by adding into every resolution (see metrics-writer.ts).
-- Histograms use the project's one bucket layout (core/model/histogram.ts) as two parallel lists, buckets
-- ascending and unique, so two rows merge by adding counts bucket by bucket.

CREATE TABLE metrics_minute (
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
  histogram_counts  UBIGINT[]   NOT NULL,
  PRIMARY KEY (scope, service, name, detect_point, component, time_ms)
);

CREATE TABLE metrics_hour (
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
  histogram_counts  UBIGINT[]   NOT NULL,
  PRIMARY KEY (scope, service, name, detect_point, component, time_ms)
);

CREATE TABLE metrics_day (
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
  histogram_counts  UBIGINT[]   NOT NULL,
  PRIMARY KEY (scope, service, name, detect_point, component, time_ms)
);

-- One row per entity; an upsert keeps the row with the latest last_seen_ms (see entity-store.ts).
CREATE TABLE entities (
  kind         VARCHAR                NOT NULL,
  service      VARCHAR                NOT NULL,
  name         VARCHAR                NOT NULL,
  layer        VARCHAR                NOT NULL,
  attributes   MAP(VARCHAR, VARCHAR)  NOT NULL,
  last_seen_ms BIGINT                 NOT NULL,
  PRIMARY KEY (kind, service, name)
);

-- Sampled raw records: append-only, read newest first, dropped by retention.
CREATE TABLE samples (
  time_ms        BIGINT   NOT NULL,
  service        VARCHAR  NOT NULL,
  instance       VARCHAR  NOT NULL,
  endpoint       VARCHAR  NOT NULL,
  detect_point   VARCHAR  NOT NULL,
  peer_service   VARCHAR  NOT NULL,
  response_code  INTEGER  NOT NULL,
  response_flags VARCHAR  NOT NULL,
  is_error       BOOLEAN  NOT NULL,
  latency_ms     DOUBLE   NOT NULL,
  reason         VARCHAR  NOT NULL,
  request_id     VARCHAR  NOT NULL,
  trace_id       VARCHAR  NOT NULL,
  raw            VARCHAR  NOT NULL
);
