import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { pino } from "pino";
import { Registry } from "prom-client";
import { KubernetesPeerResolver } from "../../../../collector/mesh/k8s/kubernetes-peer-resolver.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";
import { endpointSliceObject, FakeKubeApi, podObject, serviceObject } from "./fake-kube-api.ts";
import { kubeConfigFor } from "./kube-config-for.ts";

const api = new FakeKubeApi();
const logLines: string[] = [];
const registry = new Registry();
let resolver: KubernetesPeerResolver;

/** Polls `check` until it holds; the deadline keeps a broken reconnect from hanging the suite. */
async function until(description: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${description}`);
    await delay(20);
  }
}

async function rejectedCount(reason: string): Promise<number> {
  const metrics = await registry.getMetricsAsJSON();
  const values = metrics.find((metric) => metric.name === "meshsight_rejected_total")?.values ?? [];
  return values.filter((value) => value.labels.reason === reason).reduce((sum, value) => sum + value.value, 0);
}

function kubernetesTest(name: string, body: () => Promise<void>): void {
  test(name, body);
}

before(async () => {
  api.upsert("pods", podObject({ name: "reviews-v1-d66dcfdc5-kh6v7", namespace: "default", ip: "10.44.1.27", labels: { app: "reviews", "service.istio.io/canonical-name": "reviews" } }));
  // No naming labels: the Service whose EndpointSlice lists it names it.
  api.upsert("pods", podObject({ name: "productpage-v1-6b746f74dc-9stvs", namespace: "default", ip: "10.44.1.23", labels: { "pod-template-hash": "6b746f74dc" } }));
  api.upsert("pods", podObject({ name: "node-exporter-abcde", namespace: "monitoring", ip: "10.128.0.5", hostNetwork: true, labels: { app: "node-exporter" } }));
  api.upsert("pods", podObject({ name: "migrate-job-xyz", namespace: "default", ip: "10.44.1.99", phase: "Succeeded", labels: { app: "migrate" } }));
  api.upsert("services", serviceObject({ name: "reviews", namespace: "default", clusterIp: "10.0.45.184" }));
  api.upsert("endpointslices", endpointSliceObject({ name: "productpage-x7k2p", namespace: "default", service: "productpage", endpoints: [{ ip: "10.44.1.23", pod: "productpage-v1-6b746f74dc-9stvs" }] }));
  api.upsert("endpointslices", endpointSliceObject({ name: "legacy-db-abcde", namespace: "prod", service: "legacy-db", endpoints: [{ ip: "192.168.7.7" }] }));
  api.malformedListItems.push({ kind: "Pod", metadata: {} });
  await api.start();

  const logger = pino({ level: "info" }, { write: (line: string) => void logLines.push(line) });
  resolver = new KubernetesPeerResolver({
    kubeConfig: kubeConfigFor(api.url),
    logger,
    rejects: new RejectCounter(registry, logger),
    // A long TTL proves that watch events, not expiry, refresh the answers.
    cacheTtlMs: 3_600_000,
    reconnect: { initialMs: 50, maxMs: 200 },
  });
  await resolver.start();
});

after(async () => {
  await resolver.stop();
  await api.stop();
});

kubernetesTest("listed pods, services and EndpointSlices resolve by IP", async () => {
  assert.deepEqual(resolver.byIp("10.44.1.27"), { service: "reviews.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" });
  assert.deepEqual(resolver.byIp("10.44.1.23"), { service: "productpage.default", instance: "productpage-v1-6b746f74dc-9stvs.default" });
  assert.deepEqual(resolver.byIp("10.0.45.184"), { service: "reviews.default", instance: "" }, "a cluster IP names the Service");
  assert.deepEqual(resolver.byIp("192.168.7.7"), { service: "legacy-db.prod", instance: "192.168.7.7" }, "a non-pod endpoint keeps its IP");
  assert.equal(resolver.byIp("10.128.0.5"), null, "node and host-network IPs are unknown");
  assert.equal(resolver.byIp("10.44.1.99"), null, "a finished pod no longer owns its IP");
  assert.equal(resolver.byIp("10.99.99.99"), null);
  assert.equal(resolver.byIp("10.44.1.27"), resolver.byIp("10.44.1.27"), "answers are memoized objects");
  assert.ok((await rejectedCount("malformed_object")) >= 1, "a pod without a name is counted, not fatal");
});

kubernetesTest("a pod added by watch is resolved, a modified one renamed, a deleted one forgotten", async () => {
  assert.equal(resolver.byIp("10.44.1.50"), null, "not there yet (and the miss is memoized)");
  api.upsert("pods", podObject({ name: "ratings-v1-5f9699cfdf-abcde", namespace: "default", ip: "10.44.1.50", labels: { app: "ratings" } }));
  await until("the added pod resolves", () => resolver.byIp("10.44.1.50")?.service === "ratings.default");
  assert.equal(resolver.byIp("10.44.1.50")?.instance, "ratings-v1-5f9699cfdf-abcde.default");

  api.upsert("pods", podObject({ name: "ratings-v1-5f9699cfdf-abcde", namespace: "default", ip: "10.44.1.50", labels: { "app.kubernetes.io/name": "star-ratings" } }));
  await until("the relabelled pod is renamed", () => resolver.byIp("10.44.1.50")?.service === "star-ratings.default");

  api.delete("pods", "default", "ratings-v1-5f9699cfdf-abcde");
  await until("the deleted pod is forgotten", () => resolver.byIp("10.44.1.50") === null);
});

kubernetesTest("the API server going away keeps the last cache; coming back refreshes it", async () => {
  await api.stop();
  await until("the outage is noticed and logged", () => logLines.some((line) => line.includes("kubernetes list/watch failed")));
  assert.equal(resolver.byIp("10.44.1.27")?.service, "reviews.default", "still answered from the last known state");

  // Changes made while the collector could not see them; compaction forces a relist on reconnect.
  api.delete("pods", "default", "reviews-v1-d66dcfdc5-kh6v7");
  api.upsert("pods", podObject({ name: "details-v1-79f774bdb9-xyz12", namespace: "default", ip: "10.44.1.60", labels: { app: "details" } }));
  api.compact();
  assert.equal(resolver.byIp("10.44.1.60"), null);
  await api.start();

  await until("the pod added during the outage resolves", () => resolver.byIp("10.44.1.60")?.service === "details.default");
  await until("the pod deleted during the outage is forgotten", () => resolver.byIp("10.44.1.27") === null);
  await until("the recovery is logged", () => logLines.some((line) => line.includes("kubernetes watch recovered")));
  assert.deepEqual(resolver.byIp("10.44.1.23"), { service: "productpage.default", instance: "productpage-v1-6b746f74dc-9stvs.default" });
});
