import assert from "node:assert/strict";
import { test } from "node:test";
import { ClusterIndex } from "../../../../collector/mesh/k8s/cluster-index.ts";
import { slimEndpointSlice, slimPod, slimService, type SlimPod } from "../../../../collector/mesh/k8s/slim-objects.ts";
import { endpointSliceObject, podObject, serviceObject } from "./fake-kube-api.ts";

function pod(options: Parameters<typeof podObject>[0]): SlimPod {
  const slim = slimPod(podObject(options));
  assert.ok(slim);
  return slim;
}

void test("slimming keeps only what resolution reads", () => {
  const slim = pod({ name: "reviews-v1-abc", namespace: "default", ip: "10.44.1.27", labels: { app: "reviews", "pod-template-hash": "abc" } });
  assert.deepEqual(slim.metadata.labels, { app: "reviews" });
  assert.deepEqual(slim.podIps, ["10.44.1.27"]);
  assert.equal(slim.hostIp, "10.128.0.5");
  assert.equal(slimPod({ metadata: {} }), null, "no name, no object");
  assert.equal(slimPod("garbage"), null);
  assert.deepEqual(slimService({ metadata: { name: "db", namespace: "x" }, spec: { clusterIP: "None" } })?.clusterIps, [], "headless");
  const slice = slimEndpointSlice(endpointSliceObject({ name: "s", namespace: "default", service: "reviews", endpoints: [{ ip: "10.44.1.27", pod: "reviews-v1-abc" }] }));
  assert.deepEqual(slice?.endpoints, [{ addresses: ["10.44.1.27"], podKey: "default/reviews-v1-abc" }]);
  assert.equal(slice?.serviceName, "reviews");
});

void test("IP -> pod -> service, with Service and EndpointSlice fallbacks", () => {
  const index = new ClusterIndex(100);
  assert.deepEqual(index.upsertPod(pod({ name: "reviews-v1-abc", namespace: "default", ip: "10.44.1.27", labels: { app: "reviews" } })), ["10.44.1.27", "10.128.0.5"]);
  index.upsertPod(pod({ name: "unlabelled-1", namespace: "shop", ip: "10.44.1.30" }));
  assert.equal(index.lookUp("10.44.1.30"), null, "no labels and no Service yet");
  const sliceObject = endpointSliceObject({ name: "cart-x", namespace: "shop", service: "cart", endpoints: [{ ip: "10.44.1.30", pod: "unlabelled-1" }, { ip: "192.168.1.9" }] });
  assert.deepEqual(index.upsertEndpointSlice(slimEndpointSlice(sliceObject)!), ["10.44.1.30", "192.168.1.9"]);
  index.upsertService(slimService(serviceObject({ name: "cart", namespace: "shop", clusterIp: "10.0.0.40" }))!);

  assert.deepEqual(index.lookUp("10.44.1.27"), { service: "reviews.default", instance: "reviews-v1-abc.default" });
  assert.deepEqual(index.lookUp("10.44.1.30"), { service: "cart.shop", instance: "unlabelled-1.shop" });
  assert.deepEqual(index.lookUp("192.168.1.9"), { service: "cart.shop", instance: "192.168.1.9" });
  assert.deepEqual(index.lookUp("10.0.0.40"), { service: "cart.shop", instance: "" });
  assert.equal(index.lookUp("10.128.0.5"), null, "a node IP");

  index.deleteEndpointSlice(slimEndpointSlice(sliceObject)!);
  assert.equal(index.lookUp("10.44.1.30"), null);
  assert.equal(index.lookUp("192.168.1.9"), null);
});

void test("host-network pods, finished pods and reused IPs", () => {
  const index = new ClusterIndex(100);
  index.upsertPod(pod({ name: "exporter", namespace: "mon", ip: "10.128.0.7", hostIp: "10.128.0.7", hostNetwork: true, labels: { app: "exporter" } }));
  assert.equal(index.lookUp("10.128.0.7"), null);
  index.upsertPod(pod({ name: "job-old", namespace: "default", ip: "10.44.2.2", labels: { app: "job" }, phase: "Succeeded" }));
  assert.equal(index.lookUp("10.44.2.2"), null, "a finished pod released its IP");
  index.upsertPod(pod({ name: "web-new", namespace: "default", ip: "10.44.2.2", labels: { app: "web" } }));
  index.deletePod(pod({ name: "job-old", namespace: "default", ip: "10.44.2.2", labels: { app: "job" }, phase: "Succeeded" }));
  assert.equal(index.lookUp("10.44.2.2")?.service, "web.default", "deleting the old pod does not drop the new owner");
  index.deletePod(pod({ name: "exporter", namespace: "mon", ip: "10.128.0.7", hostIp: "10.128.0.7", hostNetwork: true }));
  assert.equal(index.lookUp("10.128.0.5"), null, "still a node IP while web-new runs there");
});

void test("the index is bounded: past the limit new objects are refused, updates still apply", () => {
  const index = new ClusterIndex(2);
  assert.ok(index.upsertPod(pod({ name: "a", namespace: "n", ip: "10.0.1.1", labels: { app: "a" } })));
  assert.ok(index.upsertPod(pod({ name: "b", namespace: "n", ip: "10.0.1.2", labels: { app: "b" } })));
  assert.equal(index.upsertPod(pod({ name: "c", namespace: "n", ip: "10.0.1.3", labels: { app: "c" } })), null);
  assert.equal(index.podCount, 2);
  assert.ok(index.upsertPod(pod({ name: "b", namespace: "n", ip: "10.0.1.2", labels: { app: "b2" } })), "an update is not a new object");
  assert.equal(index.lookUp("10.0.1.2")?.service, "b2.n");
  assert.equal(index.lookUp("10.0.1.3"), null);
});
