import assert from "node:assert/strict";
import { test } from "node:test";
import { COLLECTOR_HEAP_GROWING_PERCENT, heapGrowthFlag } from "../../collector/heap-growth.ts";

test("a collector process gets its heap growth when the operator chose none", () => {
  assert.equal(heapGrowthFlag([]), `--heap-growing-percent=${COLLECTOR_HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowthFlag(["--import", "tsx", "--max-old-space-size=512"]), `--heap-growing-percent=${COLLECTOR_HEAP_GROWING_PERCENT}`);
});

test("the operator's heap growth on node's command line wins, in either spelling", () => {
  assert.equal(heapGrowthFlag(["--heap-growing-percent=50"]), null);
  assert.equal(heapGrowthFlag(["--enable-source-maps", "--heap_growing_percent=120"]), null);
});
