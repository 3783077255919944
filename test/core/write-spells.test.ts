import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WriteSpellTracker } from "../../core/write-spells.ts";

void describe("WriteSpellTracker", () => {
  void it("sees a spell end once writes drop under a quarter of the busiest check, once per drop", () => {
    const spells = new WriteSpellTracker(1_000);
    const checks = (rowsPerCheck: number[]): boolean[] =>
      rowsPerCheck.map((rows) => {
        spells.noteWritten(rows);
        return spells.spellEnded();
      });
    assert.deepEqual(checks([0, 0]), [false, false], "nothing written, nothing to trim");
    assert.deepEqual(checks([900, 0]), [false, false], "a burst below the spell size is not worth a trim");
    assert.deepEqual(checks([4_000, 3_000, 1_001, 999, 0, 0]), [false, false, false, true, false, false]);
    assert.deepEqual(checks([8_000, 2_000, 400, 400]), [false, true, true, false], "measured from the last release: 2,000 rows are still a spell, and end too");
  });

  void it("waits for a write under way: a batch longer than a check is not the spell's end", () => {
    const spells = new WriteSpellTracker(1_000);
    spells.noteWritten(4_000);
    assert.equal(spells.spellEnded(), false);
    assert.equal(spells.spellEnded(false), false, "nothing finished in this check, but a batch is being written");
    assert.equal(spells.spellEnded(true), true);
  });

  void it("adds up every write between two checks", () => {
    const spells = new WriteSpellTracker(1_000);
    for (let write = 0; write < 10; write++) spells.noteWritten(400);
    assert.equal(spells.spellEnded(), false);
    spells.noteWritten(999);
    assert.equal(spells.spellEnded(), true, "999 rows are under a quarter of the 4,000 before");
  });
});
