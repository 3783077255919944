-- meshsight embedded storage, version 3: entity attributes one row per key, so a later entity row with
-- fewer attributes (a span-derived instance after the ALS stream described it) never blanks the others;
-- each key keeps the value of the latest row that carried it (core/storage/entity-attributes.ts).
CREATE TABLE entity_attributes (
  kind         VARCHAR NOT NULL,
  service      VARCHAR NOT NULL,
  name         VARCHAR NOT NULL,
  key          VARCHAR NOT NULL,
  value        VARCHAR NOT NULL,
  last_seen_ms BIGINT  NOT NULL,
  PRIMARY KEY (kind, service, name, key)
);
