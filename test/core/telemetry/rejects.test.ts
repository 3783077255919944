import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { Registry, type Counter } from "prom-client";
import { RejectCounter } from "../../../core/telemetry/rejects.ts";

describe("RejectCounter.during", () => {
  it("tells the rejects counted while the work ran, nested calls included, and counts every one in the metric", async () => {
    const registry = new Registry();
    const rejects = new RejectCounter(registry, pino({ level: "silent" }));
    rejects.reject("mesh", "before", 5);
    const outer = rejects.during(() => {
      rejects.reject("access-log", "field_count");
      const inner = rejects.during(() => {
        rejects.reject("aggregate", "late", 2);
        return "inner result";
      });
      assert.deepEqual(inner, { result: "inner result", rejects: new Map([["aggregate/late", 2]]) });
      return 7;
    });
    rejects.reject("mesh", "after");
    assert.deepEqual(outer, { result: 7, rejects: new Map([["access-log/field_count", 1], ["aggregate/late", 2]]) });
    assert.throws(() => rejects.during(() => {
      rejects.reject("pipeline", "resolve-error");
      throw new Error("work failed");
    }), /work failed/);
    // After a throw, counting is back to normal: nothing is captured by a finished call.
    assert.deepEqual(rejects.during(() => 0).rejects, new Map());
    const metric = await (registry.getSingleMetric("meshsight_rejected_total") as Counter).get();
    const counted = Object.fromEntries(metric.values.map((value) => [`${String(value.labels.source)}/${String(value.labels.reason)}`, value.value]));
    assert.deepEqual(counted, { "mesh/before": 5, "access-log/field_count": 1, "aggregate/late": 2, "mesh/after": 1, "pipeline/resolve-error": 1 });
  });
});
