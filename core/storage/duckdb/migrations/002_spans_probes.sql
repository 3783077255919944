-- meshsight embedded storage, version 2: the trace store and probe results.
-- Spans follow the OpenTelemetry ClickHouse exporter's columns, mapped to meshsight's dimensions.
-- Start times are epoch nanoseconds in a BIGINT (good until 2262); a span re-sent by a retrying client
-- or a second collector has the same (trace_id, span_id) and is kept once (see span-store.ts).
CREATE TABLE spans (
  trace_id            VARCHAR               NOT NULL,
  span_id             VARCHAR               NOT NULL,
  parent_span_id      VARCHAR               NOT NULL,
  name                VARCHAR               NOT NULL,
  kind                VARCHAR               NOT NULL,
  start_time_ns       BIGINT                NOT NULL,
  duration_ns         BIGINT                NOT NULL,
  service             VARCHAR               NOT NULL,
  instance            VARCHAR               NOT NULL,
  endpoint            VARCHAR               NOT NULL,
  peer_service        VARCHAR               NOT NULL,
  is_error            BOOLEAN               NOT NULL,
  status_message      VARCHAR               NOT NULL,
  attributes          MAP(VARCHAR, VARCHAR) NOT NULL,
  resource_attributes MAP(VARCHAR, VARCHAR) NOT NULL,
  PRIMARY KEY (trace_id, span_id)
);

-- One row per run of a probe case against a target: append-only, read newest first and as series.
CREATE TABLE probe_results (
  run_id      VARCHAR               NOT NULL,
  probe       VARCHAR               NOT NULL,
  kind        VARCHAR               NOT NULL,
  target      VARCHAR               NOT NULL,
  service     VARCHAR               NOT NULL,
  status      VARCHAR               NOT NULL,
  started_ms  BIGINT                NOT NULL,
  duration_ms DOUBLE                NOT NULL,
  phases      MAP(VARCHAR, DOUBLE)  NOT NULL,
  message     VARCHAR               NOT NULL,
  attempt     INTEGER               NOT NULL,
  labels      MAP(VARCHAR, VARCHAR) NOT NULL
);
