import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeInfo } from "../../../core/model/access-log.ts";
import { UNKNOWN_SERVICE } from "../../../core/model/dimensions.ts";
import { resolveProxyIdentity } from "../../../collector/mesh/proxy-identity.ts";

// Node ids and metadata keys as Istio sends them (istio/istio pkg/model/context.go, proxy.go).
const reviewsSidecar: NodeInfo = {
  id: "sidecar~10.44.2.55~reviews-v1-d66dcfdc5-kh6v7.default~default.svc.cluster.local",
  cluster: "reviews.default",
  metadata: {
    NAME: "reviews-v1-d66dcfdc5-kh6v7",
    NAMESPACE: "default",
    WORKLOAD_NAME: "reviews-v1",
    CLUSTER_ID: "Kubernetes",
    NODE_NAME: "gke-node-1",
    INSTANCE_IPS: "10.44.2.55,fe80::1",
    ISTIO_VERSION: "1.24.2",
    SERVICE_ACCOUNT: "bookinfo-reviews",
    LABELS: {
      app: "reviews",
      version: "v1",
      "service.istio.io/canonical-name": "reviews",
      "service.istio.io/canonical-revision": "v1",
      "pod-template-hash": "d66dcfdc5",
    },
  },
};

void test("a modern Istio sidecar is named from its canonical-name label and pod", () => {
  const identity = resolveProxyIdentity(reviewsSidecar);
  assert.equal(identity.role, "sidecar");
  assert.deepEqual(identity.self, { service: "reviews.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" });
  assert.equal(identity.namespace, "default");
  assert.equal(identity.ip, "10.44.2.55");
  assert.equal(identity.attributes.version, "v1");
  assert.equal(identity.attributes.cluster_id, "Kubernetes");
  assert.equal(identity.attributes.node_name, "gke-node-1");
  assert.equal(identity.attributes.istio_version, "1.24.2");
  assert.equal(identity.attributes["label.pod-template-hash"], "d66dcfdc5");
});

void test("label precedence: canonical-name, then app.kubernetes.io/name, then app, then WORKLOAD_NAME", () => {
  const withLabels = (labels: Record<string, string>): string =>
    resolveProxyIdentity({ ...reviewsSidecar, metadata: { ...reviewsSidecar.metadata, LABELS: labels } }).self.service;
  assert.equal(withLabels({ "service.istio.io/canonical-name": "canon", "app.kubernetes.io/name": "k8sname", app: "app" }), "canon.default");
  assert.equal(withLabels({ "app.kubernetes.io/name": "k8sname", app: "app" }), "k8sname.default");
  assert.equal(withLabels({ app: "app" }), "app.default");
  assert.equal(withLabels({}), "reviews-v1.default");
});

void test("an ingress gateway is a router named after its app label", () => {
  const identity = resolveProxyIdentity({
    id: "router~10.44.2.56~istio-ingressgateway-699c7dc774-hjxq5.istio-system~istio-system.svc.cluster.local",
    cluster: "istio-ingressgateway",
    metadata: {
      NAME: "istio-ingressgateway-699c7dc774-hjxq5",
      NAMESPACE: "istio-system",
      LABELS: { app: "istio-ingressgateway", istio: "ingressgateway" },
    },
  });
  assert.equal(identity.role, "router");
  assert.deepEqual(identity.self, { service: "istio-ingressgateway.istio-system", instance: "istio-ingressgateway-699c7dc774-hjxq5.istio-system" });
  assert.equal(identity.ip, "10.44.2.56");
});

void test("a waypoint is recognized by its prefix", () => {
  const identity = resolveProxyIdentity({
    id: "waypoint~10.44.3.9~waypoint-5d8f7-abcde.bookinfo~bookinfo.svc.cluster.local",
    cluster: "waypoint.bookinfo",
    metadata: { LABELS: { "gateway.networking.k8s.io/gateway-name": "waypoint", "service.istio.io/canonical-name": "waypoint" } },
  });
  assert.equal(identity.role, "waypoint");
  // Without NAME/NAMESPACE metadata, pod and namespace come from the node id.
  assert.deepEqual(identity.self, { service: "waypoint.bookinfo", instance: "waypoint-5d8f7-abcde.bookinfo" });
});

void test("Istio 1.1 flat metadata: POD_NAME, CONFIG_NAMESPACE, inline labels, ISTIO_META_INSTANCE_IPS", () => {
  const identity = resolveProxyIdentity({
    id: "sidecar~10.1.2.3~productpage-v1-abc.bookinfo~bookinfo.svc.cluster.local",
    cluster: "productpage",
    metadata: {
      POD_NAME: "productpage-v1-abc",
      CONFIG_NAMESPACE: "bookinfo",
      ISTIO_META_INSTANCE_IPS: "10.1.2.3",
      ISTIO_PROXY_VERSION: "1.1.3",
      app: "productpage",
      version: "v1",
      "pod-template-hash": "abc",
      istio: "sidecar",
    },
  });
  assert.deepEqual(identity.self, { service: "productpage.bookinfo", instance: "productpage-v1-abc.bookinfo" });
  assert.equal(identity.attributes.version, "v1");
  assert.equal(identity.attributes.istio_version, "1.1.3");
  assert.equal(identity.attributes["label.POD_NAME"], undefined, "upper-case Istio keys are not labels");
});

void test("the IP falls back to INSTANCE_IPS when the node id carries none", () => {
  const identity = resolveProxyIdentity({
    id: "sidecar~~reviews-v2-x.default~default.svc.cluster.local",
    cluster: "",
    metadata: { NAMESPACE: "default", INSTANCE_IPS: "not-an-ip, 10.9.8.7", LABELS: { app: "reviews" } },
  });
  assert.equal(identity.ip, "10.9.8.7");
  assert.equal(identity.self.service, "reviews.default");
});

void test("plain Envoy uses node.cluster as the service and node.id as the instance", () => {
  const identity = resolveProxyIdentity({ id: "front-envoy-1", cluster: "front-proxy", metadata: {} });
  assert.equal(identity.role, "none");
  assert.deepEqual(identity.self, { service: "front-proxy", instance: "front-envoy-1" });
});

void test("an unresolvable node is UNKNOWN, and malformed metadata does not throw", () => {
  assert.equal(resolveProxyIdentity({ id: "", cluster: "", metadata: {} }).self.service, UNKNOWN_SERVICE);
  const broken = resolveProxyIdentity({
    id: "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local",
    cluster: "",
    metadata: { LABELS: "not an object", NAME: 42, NAMESPACE: ["x"] },
  });
  assert.equal(broken.self.service, UNKNOWN_SERVICE);
  assert.equal(broken.self.instance, "pod.ns");
  const ztunnel = resolveProxyIdentity({ id: "ztunnel~10.0.0.2~zt.istio-system~istio-system.svc.cluster.local", cluster: "", metadata: {} });
  assert.equal(ztunnel.role, "none");
});

void test("attributes are bounded even for huge label sets", () => {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 500; i++) labels[`l${i}`] = "x".repeat(10_000);
  const identity = resolveProxyIdentity({ ...reviewsSidecar, metadata: { ...reviewsSidecar.metadata, LABELS: labels } });
  const labelKeys = Object.keys(identity.attributes).filter((key) => key.startsWith("label."));
  assert.ok(labelKeys.length <= 64, `${labelKeys.length} labels kept`);
  assert.ok(Object.values(identity.attributes).every((value) => value.length <= 256));
});
