import assert from "node:assert/strict";
import { test } from "node:test";
import { HeapRelease } from "../../collector/heap-release.ts";

void test("the heap is collected once when a flood of drained rows ends, and never while nothing happens", () => {
  let collections = 0;
  const release = new HeapRelease(() => collections++);
  release.check();
  assert.equal(collections, 0, "nothing drained");
  for (let drain = 0; drain < 6; drain++) release.noteDrained(35_000);
  release.check();
  assert.equal(collections, 0, "the flood is still on");
  release.noteDrained(12);
  release.check();
  assert.equal(collections, 1, "drains fell to almost nothing");
  release.check();
  release.check();
  assert.equal(collections, 1, "once per flood");
});

void test("the real collection runs and the process goes on", () => {
  const before = process.memoryUsage().heapUsed;
  let garbage: number[][] | undefined = Array.from({ length: 1_000 }, () => Array.from({ length: 1_000 }, (_, index) => index));
  assert.equal(garbage.length, 1_000);
  garbage = undefined;
  const release = new HeapRelease();
  release.noteDrained(1_000_000);
  release.check();
  release.check();
  assert.ok(process.memoryUsage().heapUsed < before + 4 * 1_048_576, "a million numbers' arrays (~8 MiB) were collected");
  assert.equal(garbage, undefined);
});
