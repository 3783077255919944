import assert from "node:assert/strict";
import { test } from "node:test";
import { kubernetesClientRuntimeProblem, satisfiesMinimum } from "../../../../collector/mesh/k8s/runtime-support.ts";

void test("engines minimums are compared numerically", () => {
  assert.equal(satisfiesMinimum("22.19.0", ">=22.19.0"), true);
  assert.equal(satisfiesMinimum("22.23.3", ">=22.19.0"), true);
  assert.equal(satisfiesMinimum("v23.0.0", ">=22.19.0"), true);
  assert.equal(satisfiesMinimum("20.20.2", ">=22.19.0"), false);
  assert.equal(satisfiesMinimum("22.9.0", ">=22.19.0"), false, "9 < 19, not a string comparison");
  assert.equal(satisfiesMinimum("18.0.0", ">=20"), false);
  assert.equal(satisfiesMinimum("20.1.0", "^20.0"), true);
  assert.equal(satisfiesMinimum("10.0.0", "18 || 20"), true, "ranges not understood are not enforced");
});

void test("the runtime check reads the installed packages' requirement and names it", () => {
  assert.match(kubernetesClientRuntimeProblem("20.20.2") ?? "", /requires Node >=\d+.* this is Node 20\.20\.2/);
  assert.equal(kubernetesClientRuntimeProblem("99.0.0"), null);
});
