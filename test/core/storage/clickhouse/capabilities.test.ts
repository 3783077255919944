import assert from "node:assert/strict";
import { test } from "node:test";
import { capabilitiesOf, parseServerVersion } from "../../../../core/storage/clickhouse/capabilities.ts";

void test("Debian's 18.16 gets literal binding, no TTL and no LowCardinality", () => {
  const capabilities = capabilitiesOf(parseServerVersion("18.16.1"));
  assert.deepEqual(capabilities, {
    version: { major: 18, minor: 16, text: "18.16.1" },
    queryParameters: false,
    ttl: false,
    lowCardinality: false,
  });
});

void test("current releases get every feature", () => {
  for (const text of ["24.8.4.13", "25.3.1.2703", "19.11.3.11", "20.1.2.4"]) {
    const capabilities = capabilitiesOf(parseServerVersion(text));
    assert.equal(capabilities.queryParameters, true, text);
    assert.equal(capabilities.ttl, true, text);
    assert.equal(capabilities.lowCardinality, true, text);
  }
  assert.equal(capabilitiesOf(parseServerVersion("19.9.2.4")).ttl, false);
});

void test("a version that cannot be read fails clearly", () => {
  assert.throws(() => parseServerVersion(""), /cannot parse ClickHouse version/);
  assert.throws(() => parseServerVersion("latest"), /cannot parse ClickHouse version/);
});
