/**
 * The pods, IPs and Istio identities of a bookinfo-like mesh (https://istio.io/latest/docs/examples/bookinfo/),
 * exported so the ALS simulator and the mesh resolver tests agree on one table. Node ids and metadata follow
 * Istio exactly (https://istio.io/latest/docs/ops/deployment/application-requirements/, node ids as Istio's bootstrap writes them): `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`.
 */

export type BookinfoService = "istio-ingressgateway" | "productpage" | "details" | "reviews" | "ratings" | "mysqldb";

export interface BookinfoPod {
  /** Pod name, e.g. `reviews-v1-d66dcfdc5-kh6v7`. */
  name: string;
  namespace: string;
  /** Canonical service name (`service.istio.io/canonical-name`). */
  service: BookinfoService;
  version: string;
  workload: string;
  ip: string;
  /** The port the workload serves on (9080 for HTTP services, 3306 for MySQL, 8080 for the gateway). */
  port: number;
  role: "sidecar" | "router";
  serviceAccount: string;
  labels: Record<string, string>;
  /** Envoy node id as Istio builds it. */
  nodeId: string;
  /** Envoy node cluster: `<app>.<ns>` for sidecars, the deployment for gateways. */
  nodeCluster: string;
}

export interface BookinfoServiceInfo {
  name: BookinfoService;
  namespace: string;
  /** ClusterIP of the Kubernetes Service: what an outbound entry's downstream local address shows. */
  clusterIp: string;
  port: number;
  /** Kubernetes DNS name, as it appears in outbound cluster names. */
  host: string;
}

export const BOOKINFO_NAMESPACE = "default";
export const GATEWAY_NAMESPACE = "istio-system";
export const MESH_CLUSTER_ID = "Kubernetes";
export const TRUST_DOMAIN = "cluster.local";
/** Where simulated browser traffic enters the mesh from: outside the cluster, so it resolves to no pod. */
export const EXTERNAL_CLIENT_IP = "203.0.113.7";

interface PodSpec {
  service: BookinfoService;
  version: string;
  hash: string;
  ip: string;
}

const POD_SPECS: readonly PodSpec[] = [
  { service: "istio-ingressgateway", version: "", hash: "699c7dc774-hjxq5", ip: "10.44.2.56" },
  { service: "productpage", version: "v1", hash: "7d6cfb7dfd-5mc96", ip: "10.44.1.10" },
  { service: "details", version: "v1", hash: "6997d94bb9-7gcjp", ip: "10.44.1.11" },
  { service: "reviews", version: "v1", hash: "d66dcfdc5-kh6v7", ip: "10.44.2.55" },
  { service: "reviews", version: "v2", hash: "7b8f6d9c5-qz2lp", ip: "10.44.2.57" },
  { service: "reviews", version: "v3", hash: "5c9f4b7d8-x8mwn", ip: "10.44.3.12" },
  { service: "ratings", version: "v1", hash: "85cc46b6d4-tn9vj", ip: "10.44.3.13" },
  { service: "mysqldb", version: "v1", hash: "6f5d8c7b9-r4kzs", ip: "10.44.3.14" },
];

const SERVICE_SPECS: readonly { name: BookinfoService; clusterIp: string; port: number }[] = [
  { name: "istio-ingressgateway", clusterIp: "10.96.0.80", port: 80 },
  { name: "productpage", clusterIp: "10.96.0.20", port: 9080 },
  { name: "details", clusterIp: "10.96.0.21", port: 9080 },
  { name: "reviews", clusterIp: "10.96.0.22", port: 9080 },
  { name: "ratings", clusterIp: "10.96.0.23", port: 9080 },
  { name: "mysqldb", clusterIp: "10.96.0.24", port: 3306 },
];

function namespaceOf(service: BookinfoService): string {
  return service === "istio-ingressgateway" ? GATEWAY_NAMESPACE : BOOKINFO_NAMESPACE;
}

/** Every pod of the mesh, gateway first; a fresh array each call, so callers may keep or change it. */
export function buildBookinfoPods(): BookinfoPod[] {
  return POD_SPECS.map((spec) => {
    const namespace = namespaceOf(spec.service);
    const isGateway = spec.service === "istio-ingressgateway";
    const workload = isGateway ? spec.service : `${spec.service}-${spec.version}`;
    const name = `${workload}-${spec.hash}`;
    const labels: Record<string, string> = {
      app: spec.service,
      "service.istio.io/canonical-name": spec.service,
      "service.istio.io/canonical-revision": isGateway ? "latest" : spec.version,
      "pod-template-hash": spec.hash.split("-")[0] ?? "",
    };
    if (isGateway) labels["istio"] = "ingressgateway";
    else {
      labels["version"] = spec.version;
      labels["security.istio.io/tlsMode"] = "istio";
    }
    const role = isGateway ? "router" : "sidecar";
    return {
      name,
      namespace,
      service: spec.service,
      version: spec.version,
      workload,
      ip: spec.ip,
      port: isGateway ? 8080 : spec.service === "mysqldb" ? 3306 : 9080,
      role,
      serviceAccount: isGateway ? "istio-ingressgateway-service-account" : `bookinfo-${spec.service}`,
      labels,
      nodeId: `${role}~${spec.ip}~${name}.${namespace}~${namespace}.svc.cluster.local`,
      nodeCluster: isGateway ? spec.service : `${spec.service}.${namespace}`,
    };
  });
}

export function buildBookinfoServices(): BookinfoServiceInfo[] {
  return SERVICE_SPECS.map((spec) => {
    const namespace = namespaceOf(spec.name);
    return { ...spec, namespace, host: `${spec.name}.${namespace}.svc.cluster.local` };
  });
}

/** The node metadata Istio's agent sends (keys from istio/istio `pkg/model/proxy.go`), as plain JSON. */
export function istioNodeMetadata(pod: BookinfoPod): Record<string, unknown> {
  return {
    NAME: pod.name,
    NAMESPACE: pod.namespace,
    LABELS: { ...pod.labels },
    WORKLOAD_NAME: pod.workload,
    OWNER: `kubernetes://apis/apps/v1/namespaces/${pod.namespace}/deployments/${pod.workload}`,
    SERVICE_ACCOUNT: pod.serviceAccount,
    CLUSTER_ID: MESH_CLUSTER_ID,
    MESH_ID: TRUST_DOMAIN,
    INSTANCE_IPS: pod.ip,
    ISTIO_VERSION: "1.24.2",
    INTERCEPTION_MODE: "REDIRECT",
    APP_CONTAINERS: pod.service,
  };
}

/**
 * The peer metadata Istio >= 1.24 logs as `downstream_peer` / `upstream_peer` filter state
 * (`WorkloadMetadataObject::serializeAsProto`, lower-case keys).
 */
export function istioPeerStruct(pod: BookinfoPod): Record<string, unknown> {
  return {
    type: "deployment",
    workload: pod.workload,
    name: pod.name,
    cluster: MESH_CLUSTER_ID,
    namespace: pod.namespace,
    service: pod.service,
    revision: pod.version === "" ? "latest" : pod.version,
    app: pod.service,
    version: pod.version,
    identity: spiffeId(pod),
    labels: { ...pod.labels },
  };
}

export function spiffeId(pod: BookinfoPod): string {
  return `spiffe://${TRUST_DOMAIN}/ns/${pod.namespace}/sa/${pod.serviceAccount}`;
}
