import assert from "node:assert/strict";
import { test } from "node:test";
import { parseClusterName, serviceFromHost, type ParsedClusterName } from "../../../collector/mesh/cluster-name.ts";

// Real cluster names from Istio (BuildSubsetKey / BuildDNSSrvSubsetKey) and from istio.io access-log examples.
const cases: Array<[string, Partial<ParsedClusterName>]> = [
  ["inbound|9080||", { direction: "inbound", kind: "subset-key", port: 9080, subset: "", host: "", serviceFromHost: "" }],
  ["inbound|8000||", { direction: "inbound", port: 8000 }],
  [
    "outbound|9080||reviews.default.svc.cluster.local",
    { direction: "outbound", kind: "subset-key", port: 9080, subset: "", host: "reviews.default.svc.cluster.local", serviceFromHost: "reviews.default" },
  ],
  [
    "outbound|9080|v1|reviews.default.svc.cluster.local",
    { direction: "outbound", port: 9080, subset: "v1", host: "reviews.default.svc.cluster.local", serviceFromHost: "reviews.default" },
  ],
  [
    "outbound|8000||httpbin.foo.svc.cluster.local",
    { direction: "outbound", port: 8000, host: "httpbin.foo.svc.cluster.local", serviceFromHost: "httpbin.foo" },
  ],
  [
    "outbound_.9080_._.reviews.default.svc.cluster.local",
    { direction: "outbound", kind: "sni", port: 9080, subset: "", host: "reviews.default.svc.cluster.local", serviceFromHost: "reviews.default" },
  ],
  [
    "outbound_.9080_.v2_.reviews.default.svc.cluster.local",
    { direction: "outbound", kind: "sni", port: 9080, subset: "v2", serviceFromHost: "reviews.default" },
  ],
  // Istio 1.1: the inbound key carried the port name and the host.
  [
    "inbound|9080|http|reviews.default.svc.cluster.local",
    { direction: "inbound", kind: "subset-key", port: 9080, subset: "http", host: "reviews.default.svc.cluster.local", serviceFromHost: "reviews.default" },
  ],
  // A ServiceEntry host is not a Kubernetes name and is kept whole.
  ["outbound|443||api.example.com", { direction: "outbound", host: "api.example.com", serviceFromHost: "api.example.com" }],
  // Istio >= 1.23 %UPSTREAM_CLUSTER% may carry the alt stat name after `;`.
  ["outbound|8000||httpbin.foo.svc.cluster.local;", { direction: "outbound", host: "httpbin.foo.svc.cluster.local", serviceFromHost: "httpbin.foo" }],
  ["PassthroughCluster", { direction: "outbound", kind: "passthrough", host: "" }],
  ["BlackHoleCluster", { direction: "outbound", kind: "blackhole" }],
  ["InboundPassthroughClusterIpv4", { direction: "inbound", kind: "inbound-passthrough" }],
  ["InboundPassthroughClusterIpv6", { direction: "inbound", kind: "inbound-passthrough" }],
  ["", { direction: "unknown", kind: "blank" }],
  ["-", { direction: "unknown", kind: "blank" }],
  ["backend_service", { direction: "unknown", kind: "other", host: "", serviceFromHost: "" }],
  ["outbound|notaport||x.y.svc.cluster.local", { direction: "outbound", port: 0, serviceFromHost: "x.y" }],
];

for (const [name, expected] of cases) {
  void test(`cluster name ${JSON.stringify(name)}`, () => {
    const parsed = parseClusterName(name);
    for (const [key, value] of Object.entries(expected)) {
      assert.equal(parsed[key as keyof ParsedClusterName], value, `${key} of ${name}`);
    }
  });
}

void test("serviceFromHost shortens only Kubernetes service hosts", () => {
  assert.equal(serviceFromHost("reviews.default.svc.cluster.local"), "reviews.default");
  assert.equal(serviceFromHost("reviews.default.svc.mesh.example"), "reviews.default");
  assert.equal(serviceFromHost("reviews.default.svc"), "reviews.default");
  assert.equal(serviceFromHost("reviews"), "reviews");
  assert.equal(serviceFromHost("svcs.example.com"), "svcs.example.com");
  assert.equal(serviceFromHost("my.svcgateway.com"), "my.svcgateway.com");
  assert.equal(serviceFromHost(""), "");
});
