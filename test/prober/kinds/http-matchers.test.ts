import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateJsonPath, parseJsonPath } from "../../../prober/kinds/http/json-path.ts";
import { describeRanges, isStatusAccepted, parseStatusRanges } from "../../../prober/kinds/http/status-codes.ts";

describe("http matchers", () => {
  it("status ranges: codes, classes and spans", () => {
    const ranges = parseStatusRanges([204, "3xx", "500-502"], "expectedStatus");
    assert.equal(describeRanges(ranges), "204, 3xx, 500-502");
    for (const accepted of [204, 300, 399, 500, 502]) assert.ok(isStatusAccepted(accepted, ranges), String(accepted));
    for (const refused of [200, 205, 400, 503]) assert.ok(!isStatusAccepted(refused, ranges), String(refused));
    for (const bad of [99, 600, "6xx", "502-500", "2XXX", ""]) assert.throws(() => parseStatusRanges([bad], "expectedStatus"), /expectedStatus\.0: /, String(bad));
  });

  it("JSON paths: keys, quoted keys and indexes; missing steps are not found", () => {
    const document = { a: { "b-c": [{ d: 1 }, { d: null }] }, "odd key": true };
    assert.deepEqual(evaluateJsonPath(document, parseJsonPath("$.a.b-c[1].d", "p")), { found: true, value: null });
    assert.deepEqual(evaluateJsonPath(document, parseJsonPath('$["odd key"]', "p")), { found: true, value: true });
    assert.deepEqual(evaluateJsonPath(document, parseJsonPath("$", "p")), { found: true, value: document });
    assert.deepEqual(evaluateJsonPath(document, parseJsonPath("$.a.b-c[2]", "p")), { found: false });
    assert.deepEqual(evaluateJsonPath(document, parseJsonPath("$.a[0]", "p")), { found: false });
    assert.deepEqual(evaluateJsonPath(document, parseJsonPath("$.toString", "p")), { found: false }, "only own properties");
    assert.throws(() => parseJsonPath("$.a[*]", "json.0.path"), /json\.0\.path: cannot read "\[\*\]"/);
  });
});
