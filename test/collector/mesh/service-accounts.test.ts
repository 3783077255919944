import assert from "node:assert/strict";
import { test } from "node:test";
import { LearnedServiceAccounts, parseSpiffeId } from "../../../collector/mesh/service-accounts.ts";
import type { ProxyIdentity } from "../../../core/model/access-log.ts";

function sidecar(service: string, serviceAccount: string, namespace = "default"): ProxyIdentity {
  return { role: "sidecar", self: { service, instance: `${service}-pod.${namespace}` }, namespace, ip: "10.44.1.1", attributes: { service_account: serviceAccount } };
}

test("SPIFFE ids name a namespace and service account; anything else names none", () => {
  assert.deepEqual(parseSpiffeId("spiffe://cluster.local/ns/default/sa/bookinfo-reviews"), { namespace: "default", name: "bookinfo-reviews", key: "default/bookinfo-reviews" });
  assert.deepEqual(parseSpiffeId("spiffe://example.org/ns/shop/sa/default")?.key, "shop/default");
  for (const other of ["", "spiffe://cluster.local/ns/default", "spiffe://cluster.local/ns//sa/x", "https://cluster.local/ns/a/sa/b", "spiffe://td/ns/a/sa/b/extra"]) {
    assert.equal(parseSpiffeId(other), null, other);
  }
});

test("the sidecars' own node metadata names the service behind a service account, unless services share it", () => {
  const accounts = new LearnedServiceAccounts();
  const reviews = parseSpiffeId("spiffe://cluster.local/ns/default/sa/bookinfo-reviews")!;
  const shared = parseSpiffeId("spiffe://cluster.local/ns/default/sa/default")!;
  assert.equal(accounts.serviceOf(reviews), null, "nothing reported yet");
  accounts.learn(sidecar("reviews.default", "bookinfo-reviews"), "reviews.default");
  accounts.learn(sidecar("reviews.default", "bookinfo-reviews"), "reviews.default");
  assert.deepEqual(accounts.serviceOf(reviews), { service: "reviews.default", instance: "" });
  accounts.learn(sidecar("legacy-a.default", "default"), "legacy-a.default");
  assert.deepEqual(accounts.serviceOf(shared), { service: "legacy-a.default", instance: "" });
  accounts.learn(sidecar("legacy-b.default", "default"), "legacy-b.default");
  assert.equal(accounts.serviceOf(shared), null, "two services share it: it names neither");
});

test("a proxy still unnamed is learned from once its service is known", () => {
  const accounts = new LearnedServiceAccounts();
  const gateway = sidecar("UNKNOWN", "istio-ingressgateway-service-account", "istio-system");
  const account = parseSpiffeId("spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account")!;
  accounts.learn(gateway, "UNKNOWN");
  assert.equal(accounts.serviceOf(account), null);
  accounts.learn(gateway, "istio-ingressgateway.istio-system");
  assert.deepEqual(accounts.serviceOf(account), { service: "istio-ingressgateway.istio-system", instance: "" });
});
