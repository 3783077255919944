import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ProbeResult } from "../../../../core/model/probe.ts";
import type { Span } from "../../../../core/model/span.ts";
import { InvalidStorageRowError } from "../../../../core/storage/clickhouse/rows.ts";
import { toProbeResultRow, toSpanRow } from "../../../../core/storage/clickhouse/span-rows.ts";

const START_NS = 1_705_276_800_123_456_789n;

function span(overrides: Partial<Span> = {}): Span {
  return {
    traceId: "t",
    spanId: "s",
    parentSpanId: "",
    name: "op",
    kind: "client",
    startTimeUnixNano: START_NS,
    durationNs: 2_000,
    service: "a.default",
    instance: "",
    endpoint: "",
    peerService: "b.default",
    isError: true,
    statusMessage: "boom",
    attributes: { k1: "v1", k2: "v2" },
    resourceAttributes: {},
    ...overrides,
  };
}

describe("ClickHouse span and probe result rows", () => {
  test("a span becomes a row with its nanosecond start as exact UInt64 text and attributes as parallel arrays", () => {
    const row = toSpanRow(span(), 0);
    assert.equal(row.start_time_ns, "1705276800123456789");
    assert.equal(row.time, 1_705_276_800);
    assert.deepEqual([row.attr_keys, row.attr_values], [["k1", "k2"], ["v1", "v2"]]);
    assert.equal(row.is_error, 1);
  });

  test("invalid spans fail with InvalidStorageRowError naming row and field, also for bigint values", () => {
    const cases: [Partial<Span>, RegExp][] = [
      [{ traceId: "" }, /span row 3: traceId/],
      [{ kind: "sideways" as Span["kind"] }, /kind/],
      [{ startTimeUnixNano: 5 as unknown as bigint }, /startTimeUnixNano/],
      [{ startTimeUnixNano: 2n ** 64n }, /startTimeUnixNano is invalid \(18446744073709551616\)/],
      [{ durationNs: -1 }, /durationNs/],
      [{ attributes: { big: 7n as unknown as string } }, /attributes\.big is invalid \(7\)/],
      [{ isError: "yes" as unknown as boolean }, /isError/],
    ];
    for (const [overrides, message] of cases) {
      assert.throws(() => toSpanRow(span(overrides), 3), (error: unknown) => error instanceof InvalidStorageRowError && message.test(error.message));
    }
  });

  test("probe results keep phases and labels as parallel arrays and refuse unknown statuses", () => {
    const result: ProbeResult = {
      runId: "r",
      probe: "p",
      kind: "http",
      target: "t",
      service: "",
      status: "timeout",
      startedMs: 1_705_276_800_250,
      durationMs: 5000,
      phases: { dns: 1.5, connect: 3 },
      message: "",
      attempt: 2,
      labels: { zone: "a" },
    };
    const row = toProbeResultRow(result, 0);
    assert.deepEqual([row.time, row.phase_names, row.phase_ms, row.label_keys, row.label_values], [1_705_276_800, ["dns", "connect"], [1.5, 3], ["zone"], ["a"]]);
    assert.throws(() => toProbeResultRow({ ...result, status: "meh" as ProbeResult["status"] }, 0), InvalidStorageRowError);
    assert.throws(() => toProbeResultRow({ ...result, phases: { dns: Number.NaN } }, 0), InvalidStorageRowError);
  });
});
