import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { KubernetesPeerResolver } from "../../../../collector/mesh/k8s/kubernetes-peer-resolver.ts";
import { MeshResolver } from "../../../../collector/mesh/mesh-resolver.ts";
import { resolveProxyIdentity } from "../../../../collector/mesh/proxy-identity.ts";
import type { MeshCall } from "../../../../core/model/access-log.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";
import { waitFor } from "../../../support/wait-for.ts";
import { httpEntry } from "../entries.ts";
import { FakeKubeApi, podObject } from "./fake-kube-api.ts";
import { kubeConfigFor } from "./kube-config-for.ts";

/**
 * Identities only Kubernetes can complete, with the real client against a local API server: an Istio 1.1-era
 * gateway that reports a node id and flat metadata but no labels, and callers known only by the service
 * account in their mTLS certificate.
 */

const GATEWAY_POD = "istio-ingressgateway-699c7dc774-hjxq5";
const GATEWAY_IP = "10.44.2.56";

const api = new FakeKubeApi();
let peers: KubernetesPeerResolver;
let resolver: MeshResolver;

function resolveAll(proxy: ReturnType<typeof resolveProxyIdentity>, entry: ReturnType<typeof httpEntry>): MeshCall[] {
  const out: MeshCall[] = [];
  resolver.resolve(proxy, entry, out);
  return out;
}

function summary(call: MeshCall): string {
  return `${call.detectPoint} ${call.source.service} -> ${call.destination.service} (${call.destination.instance || "-"}) caller:${call.callerLookup}`;
}

before(async () => {
  const gatewayLabels = { app: "istio-ingressgateway", istio: "ingressgateway" };
  api.upsert("pods", podObject({ name: GATEWAY_POD, namespace: "istio-system", ip: GATEWAY_IP, labels: gatewayLabels, serviceAccount: "istio-ingressgateway-service-account" }));
  api.upsert("pods", podObject({ name: "productpage-v1-6b746f74dc-9stvs", namespace: "default", ip: "10.44.1.23", labels: { app: "productpage" }, serviceAccount: "bookinfo-productpage" }));
  api.upsert("pods", podObject({ name: "reviews-v1-d66dcfdc5-kh6v7", namespace: "default", ip: "10.44.1.27", labels: { app: "reviews" }, serviceAccount: "bookinfo-reviews" }));
  api.upsert("pods", podObject({ name: "reviews-v2-7d79d5bd5d-2ltn8", namespace: "default", ip: "10.44.1.28", labels: { app: "reviews" }, serviceAccount: "bookinfo-reviews" }));
  // Two services running as their namespace's default account: the identity names neither.
  api.upsert("pods", podObject({ name: "legacy-a-5f6d7c8b9-aaaaa", namespace: "default", ip: "10.44.1.40", labels: { app: "legacy-a" } }));
  api.upsert("pods", podObject({ name: "legacy-b-5f6d7c8b9-bbbbb", namespace: "default", ip: "10.44.1.41", labels: { app: "legacy-b" } }));
  await api.start();
  const logger = pino({ level: "silent" });
  const registry = new Registry();
  const rejects = new RejectCounter(registry, logger);
  peers = new KubernetesPeerResolver({ kubeConfig: kubeConfigFor(api.url), logger, rejects, reconnect: { initialMs: 50, maxMs: 200 } });
  await peers.start();
  await waitFor(() => peers.byIp(GATEWAY_IP) !== null, "the pods are listed");
  resolver = new MeshResolver({ peers, nameEndpoint: (service, method, path) => `${method}:${path}`, rejects });
});

after(async () => {
  await peers.stop();
  await api.stop();
});

describe("an Istio 1.1-era gateway (node id and flat metadata, no labels)", () => {
  const metadata = {
    POD_NAME: GATEWAY_POD,
    CONFIG_NAMESPACE: "istio-system",
    ISTIO_META_INSTANCE_IPS: GATEWAY_IP,
    ISTIO_PROXY_VERSION: "1.1.3",
    // Old gateways carry the sidecar injector's key too; the node id's `router` decides the role.
    istio: "sidecar",
  };
  const outsideRequest = httpEntry({
    upstreamCluster: "outbound|9080||productpage.default.svc.cluster.local",
    downstreamRemoteAddress: "203.0.113.7:51000",
    downstreamDirectRemoteAddress: "203.0.113.7:51000",
    downstreamLocalAddress: `${GATEWAY_IP}:8080`,
    upstreamRemoteAddress: "10.44.1.23:9080",
    upstreamLocalAddress: `${GATEWAY_IP}:40100`,
    path: "/productpage",
    requestedServerName: "",
    tlsMode: "none",
  });

  it("is named by its own pod, found by the name in its node id, and yields both legs", () => {
    const proxy = resolveProxyIdentity({ id: `router~${GATEWAY_IP}~${GATEWAY_POD}.istio-system~istio-system.svc.cluster.local`, cluster: "istio-ingressgateway", metadata });
    assert.equal(proxy.role, "router");
    assert.deepEqual(resolveAll(proxy, outsideRequest).map(summary), [
      `server UNKNOWN -> istio-ingressgateway.istio-system (${GATEWAY_POD}.istio-system) caller:edge`,
      "client istio-ingressgateway.istio-system -> productpage.default (productpage-v1-6b746f74dc-9stvs.default) caller:none",
    ]);
    assert.deepEqual(resolver.selfOf(proxy), { service: "istio-ingressgateway.istio-system", instance: `${GATEWAY_POD}.istio-system` });
  });

  it("is named by its own address when the node id names no pod", () => {
    const proxy = resolveProxyIdentity({ id: `router~${GATEWAY_IP}~~istio-system.svc.cluster.local`, cluster: "istio-ingressgateway", metadata: { ISTIO_META_INSTANCE_IPS: GATEWAY_IP, istio: "sidecar" } });
    const [server] = resolveAll(proxy, outsideRequest);
    assert.deepEqual(server?.destination, { service: "istio-ingressgateway.istio-system", instance: `${GATEWAY_POD}.istio-system` });
  });
});

describe("callers known only by their mTLS identity", () => {
  const reviewsProxy = resolveProxyIdentity({
    id: "sidecar~10.44.1.27~reviews-v1-d66dcfdc5-kh6v7.default~default.svc.cluster.local",
    cluster: "reviews.default",
    metadata: { NAME: "reviews-v1-d66dcfdc5-kh6v7", NAMESPACE: "default", LABELS: { app: "reviews" } },
  });
  const inboundFrom = (principal: string): ReturnType<typeof httpEntry> =>
    httpEntry({ downstreamRemoteAddress: "100.64.0.9:40000", downstreamDirectRemoteAddress: "100.64.0.9:40000", downstreamPeerPrincipal: principal, tlsMode: "mtls" });

  it("are named by the one service whose pods run as that service account", () => {
    const [call] = resolveAll(reviewsProxy, inboundFrom("spiffe://cluster.local/ns/default/sa/bookinfo-productpage"));
    assert.equal(call && summary(call), "server productpage.default -> reviews.default (reviews-v1-d66dcfdc5-kh6v7.default) caller:none");
    assert.deepEqual(call?.source, { service: "productpage.default", instance: "" });
  });

  it("stay unknown (left to request-id pairing) when several services share the account", () => {
    const [call] = resolveAll(reviewsProxy, inboundFrom("spiffe://cluster.local/ns/default/sa/default"));
    assert.equal(call && summary(call), "server UNKNOWN -> reviews.default (reviews-v1-d66dcfdc5-kh6v7.default) caller:mesh");
  });

  it("stay unknown for an identity that is not a workload's", () => {
    const [call] = resolveAll(reviewsProxy, inboundFrom("spiffe://cluster.local/ns/default/serviceaccount/x"));
    assert.equal(call?.callerLookup, "mesh");
  });
});
