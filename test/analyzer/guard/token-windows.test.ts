import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refill, spendToken, tokenWindows, windowDurationMs, type BucketState } from "../../../analyzer/guard/token-windows.ts";

describe("token windows", () => {
  const windows = tokenWindows({ "24h": 100, "1m": 3, "5m": 5 });

  it("reads window names and orders windows shortest first", () => {
    assert.deepEqual(windows.map((window) => [window.name, window.durationMs]), [["1m", 60_000], ["5m", 300_000], ["24h", 86_400_000]]);
    assert.equal(windowDurationMs("90s"), 90_000);
    assert.equal(windowDurationMs("1w"), undefined);
    assert.equal(windowDurationMs("0m"), undefined);
  });

  it("allows a burst up to the smallest window and refuses the next without spending", () => {
    let state: BucketState | undefined;
    for (let index = 0; index < 3; index++) {
      const outcome = spendToken(state, windows, 0);
      assert.equal(outcome.isSpent, true, `operation ${index + 1}`);
      state = outcome.state;
    }
    const refused = spendToken(state, windows, 0);
    assert.equal(refused.isSpent, false);
    assert.equal(refused.isSpent ? "" : refused.dryWindow.name, "1m");
    assert.deepEqual(refused.state.tokens, { "1m": 0, "5m": 2, "24h": 97 }, "a refusal spends nothing");
  });

  it("refills each window at its own rate, capped at its size", () => {
    let state: BucketState | undefined;
    for (let index = 0; index < 3; index++) state = (spendToken(state, windows, 0) as { state: BucketState }).state;
    // 1m refills 3 per minute: one token every 20 s; 5m refills 5 per 5 minutes: one a minute.
    assert.equal(spendToken(state, windows, 19_999).isSpent, false);
    const after20s = spendToken(state, windows, 20_000);
    assert.equal(after20s.isSpent, true);
    const later = refill(state, windows, 10 * 60_000);
    assert.deepEqual(later.tokens, { "1m": 3, "5m": 5, "24h": 97 + (10 * 60_000 * 100) / 86_400_000 });
  });

  it("lets the longer window bound a steady stream the short one would allow", () => {
    let state: BucketState | undefined;
    let allowed = 0;
    // One operation every 20 s would be fine for "3 a minute" forever, but "5 in 5 minutes" stops it.
    for (let second = 0; second < 300; second += 20) {
      const outcome = spendToken(state, windows, second * 1_000);
      state = outcome.state;
      if (outcome.isSpent) allowed++;
    }
    // 5 at once plus one a minute: about 9 of the 15; the short window alone would allow all 15.
    assert.ok(allowed >= 8 && allowed <= 10, `allowed ${allowed} of 15 in 5 minutes`);
  });
});
