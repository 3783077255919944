import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecordingKind, lookup, proberHarness, testCase } from "../helpers.ts";

describe("release probes (what the release gate runs)", () => {
  it("runs every case bound to the released service against all its targets, or only the named cases", async () => {
    const kind = new RecordingKind("test");
    const harness = await proberHarness(lookup(kind));
    const { catalog } = harness.prober.internals;
    try {
      await harness.start();
      await catalog.upsert(testCase(lookup(kind), { name: "health", service: "checkout.default", targets: ["a", "b"] }));
      await catalog.upsert(testCase(lookup(kind), { name: "login", service: "checkout.default", targets: ["c"], spec: { failFirst: 1 } }));
      await catalog.upsert(testCase(lookup(kind), { name: "other", service: "cart.default", targets: ["d"] }));

      const all = await harness.prober.runReleaseProbes({ service: "checkout.default" });
      assert.deepEqual(all.map((result) => `${result.probe}/${result.target}/${result.status}`).sort(), ["health/a/success", "health/b/success", "login/c/failure"]);
      assert.equal(new Set(all.filter((result) => result.probe === "health").map((result) => result.runId)).size, 1, "one run id per case run");

      const only = await harness.prober.runReleaseProbes({ service: "checkout.default", cases: ["login"] });
      assert.deepEqual(only.map((result) => `${result.probe}/${result.target}/${result.status}`), ["login/c/success"]);
      assert.deepEqual(await harness.prober.runReleaseProbes({ service: "unknown.default" }), []);
      assert.ok(!kind.calls.some((call) => call.target === "d"), "cases of other services do not run");
    } finally {
      await harness.stop();
    }
  });
});
