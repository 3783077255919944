import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StoredBlocks } from "../../../../core/storage/clickhouse/repeated-blocks.ts";

const DAY_S = 86_400;
const row = (time: number, calls: number): { time: number; calls: number } => ({ time, calls });

void describe("StoredBlocks: which writes would a Replicated table take for a retry", () => {
  void it("makes one block per UTC day, whatever the order of the rows", () => {
    const stored = new StoredBlocks();
    const blocks = stored.blocksOf("t", [row(60, 1), row(DAY_S + 60, 2), row(120, 3)]);
    assert.equal(blocks.length, 2);
    assert.deepEqual(new Set(stored.blocksOf("t", [row(120, 3), row(DAY_S + 60, 2), row(60, 1)])), new Set(blocks));
    assert.notDeepEqual(stored.blocksOf("other", [row(60, 1)]), stored.blocksOf("t", [row(60, 1)]), "blocks of another table are others");
  });

  void it("says a batch repeats a stored one when any of its days does, and only after it was stored", () => {
    const stored = new StoredBlocks();
    const first = stored.blocksOf("t", [row(60, 1)]);
    assert.equal(stored.repeatsStored(first), false, "a write that failed is not remembered: its retry keeps de-duplication");
    stored.remember(first);
    assert.equal(stored.repeatsStored(stored.blocksOf("t", [row(60, 1)])), true);
    assert.equal(stored.repeatsStored(stored.blocksOf("t", [row(60, 1), row(DAY_S + 60, 5)])), true, "its first day's block equals the stored one");
    assert.equal(stored.repeatsStored(stored.blocksOf("t", [row(60, 2)])), false);
  });

  void it("forgets the oldest blocks beyond a thousand, far more than the server's de-duplication window", () => {
    const stored = new StoredBlocks();
    const blocks = Array.from({ length: 1001 }, (_, i) => stored.blocksOf("t", [row(60, i)])[0]!);
    for (const block of blocks) stored.remember([block]);
    assert.equal(stored.repeatsStored([blocks[0]!]), false);
    assert.equal(stored.repeatsStored([blocks[1]!]), true);
    assert.equal(stored.repeatsStored([blocks[1000]!]), true);
  });
});
