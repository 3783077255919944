import assert from "node:assert/strict";
import { test } from "node:test";
import { goDurationMs, jaegerTraceQuery, storedTraceId } from "../../../collector/query/trace-jaeger-params.ts";

void test("Go durations as time.ParseDuration reads them, in milliseconds", () => {
  const cases: [string, number | null][] = [
    ["1h15m", 4_500_000],
    ["1.2s", 1200],
    [".5s", 500],
    ["300us", 0.3],
    ["300\u00b5s", 0.3],
    ["1500ns", 0.0015],
    ["0", 0],
    ["-1s", -1000],
    ["2m3.5s", 123_500],
    ["1", null],
    ["1d", null],
    ["", null],
    ["s", null],
    ["1s2", null],
  ];
  assert.deepEqual(
    cases.map(([text]) => [text, goDurationMs(text)]),
    cases,
  );
});

void test("a search maps to one storage query: microsecond window, tags, error=true, limit bounds", () => {
  const nowMs = 1_700_000_000_000;
  assert.deepEqual(
    jaegerTraceQuery({ service: "a.ns", operation: "GET /", start: "1699999999000000", end: "1700000000000999", tags: '{"k":"v","error":"true"}', tag: "x:y:z", limit: "0" }, nowMs),
    { service: "a.ns", name: "GET /", fromMs: 1_699_999_999_000, toMs: 1_700_000_000_001, limit: 100, onlyErrors: true, attributes: { x: "y:z", k: "v" } },
  );
  assert.deepEqual(jaegerTraceQuery({ service: "a.ns", limit: "7" }, nowMs), { service: "a.ns", fromMs: nowMs - 48 * 3_600_000, toMs: nowMs, limit: 7 });
  assert.throws(() => jaegerTraceQuery({ service: "a.ns", tags: '{"k":1}' }, nowMs), /expected an object of string values/);
  assert.throws(() => jaegerTraceQuery({ service: "a.ns", tag: "novalue" }, nowMs), /expecting key:value, received: novalue/);
  assert.throws(() => jaegerTraceQuery({ service: "a.ns", limit: "ten" }, nowMs), /unable to parse param 'limit'/);
});

void test("trace ids: up to 32 hex digits, left-padded to the stored 32", () => {
  assert.equal(storedTraceId("ABC"), "00000000000000000000000000000abc");
  assert.equal(storedTraceId("4bf92f3577b34da6a3ce929d0e0e4736"), "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(storedTraceId("4bf92f3577b34da6a3ce929d0e0e47360"), null);
  assert.equal(storedTraceId("xyz"), null);
});
