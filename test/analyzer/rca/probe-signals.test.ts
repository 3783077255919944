import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostOf } from "../../../analyzer/rca/probe-signals.ts";

describe("hostOf", () => {
  it("takes the host of URLs and host:port targets, lower-cased", () => {
    const cases: [string, string][] = [
      ["http://Ratings.default.svc.cluster.local:9080/health?x=1", "ratings.default.svc.cluster.local"],
      ["https://details.default/", "details.default"],
      ["grpc://reviews.default:9090", "reviews.default"],
      ["ratings.default:9080", "ratings.default"],
      ["ratings.default.svc.cluster.local.", "ratings.default.svc.cluster.local"],
      ["10.44.3.13:9080", "10.44.3.13"],
      ["[fd00::1]:9080", "[fd00::1]"],
      ["", ""],
    ];
    for (const [target, host] of cases) assert.equal(hostOf(target), host, target);
  });
});
