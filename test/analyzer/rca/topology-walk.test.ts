import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pathTo, walkDependencies } from "../../../analyzer/rca/topology-walk.ts";

function graph(edges: readonly (readonly [string, string])[]): Map<string, Set<string>> {
  const callees = new Map<string, Set<string>>();
  for (const [caller, callee] of edges) callees.set(caller, (callees.get(caller) ?? new Set()).add(callee));
  return callees;
}

const WIDE = { maxServices: 100, maxDepth: 10 };

describe("walkDependencies", () => {
  it("gives every service its shortest distance from a symptom and the path to it", () => {
    const callees = graph([["gw", "page"], ["page", "details"], ["page", "reviews"], ["reviews", "ratings"], ["gw", "ratings"]]);
    const walk = walkDependencies(["page"], callees, WIDE);
    assert.deepEqual(walk.services.map(({ service, depth }) => [service, depth]), [["page", 0], ["details", 1], ["reviews", 1], ["ratings", 2]]);
    assert.equal(walk.isTruncated, false);
    assert.deepEqual(pathTo("ratings", new Map(walk.services.map((step) => [step.service, step]))), ["page", "reviews", "ratings"]);
  });

  it("visits each service of a cycle once", () => {
    const callees = graph([["a", "b"], ["b", "c"], ["c", "a"], ["c", "c"], ["b", "a"]]);
    const walk = walkDependencies(["a", "b", "a"], callees, WIDE);
    assert.deepEqual(walk.services.map(({ service, depth }) => [service, depth]), [["a", 0], ["b", 0], ["c", 1]]);
  });

  it("stops at the depth and service caps and says so", () => {
    const chain = graph(Array.from({ length: 20 }, (_, i) => [`s${i}`, `s${i + 1}`] as const));
    const deep = walkDependencies(["s0"], chain, { maxServices: 100, maxDepth: 3 });
    assert.deepEqual(deep.services.map((step) => step.service), ["s0", "s1", "s2", "s3"]);
    assert.equal(deep.isTruncated, true);
    const fan = graph(Array.from({ length: 1000 }, (_, i) => ["root", `leaf${String(i).padStart(4, "0")}`] as const));
    const wide = walkDependencies(["root"], fan, { maxServices: 5, maxDepth: 10 });
    assert.equal(wide.services.length, 5);
    assert.equal(wide.isTruncated, true);
  });
});
