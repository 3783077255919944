import type { KubernetesObject } from "@kubernetes/client-node";

/**
 * The few fields of pods, services and EndpointSlices that peer resolution reads. Informers keep every
 * object they see; keeping these instead of whole objects (managed fields, specs, container statuses...)
 * cuts the cache to a small fraction, which is what lets it follow a large cluster.
 */

export interface SlimMetadata {
  name: string;
  namespace: string;
  resourceVersion: string;
  labels: Record<string, string>;
}

export interface SlimPod extends KubernetesObject {
  metadata: SlimMetadata;
  hostNetwork: boolean;
  /** Pending and running pods own their IPs; finished ones (Succeeded, Failed) have released them. */
  isActive: boolean;
  podIps: string[];
  hostIp: string;
  /** `spec.serviceAccountName`, the identity its sidecar presents in mTLS ("default" when unset). */
  serviceAccount: string;
}

export interface SlimService extends KubernetesObject {
  metadata: SlimMetadata;
  clusterIps: string[];
}

export interface SlimEndpoint {
  addresses: string[];
  /** `namespace/name` of the pod behind the addresses, "" when not a pod (VMs, manual endpoints). */
  podKey: string;
}

export interface SlimEndpointSlice extends KubernetesObject {
  metadata: SlimMetadata;
  /** From the `kubernetes.io/service-name` label, "" when the slice belongs to no service. */
  serviceName: string;
  endpoints: SlimEndpoint[];
}

/** Labels that name workloads (see workload-name.ts); other labels are not kept. */
const KEPT_POD_LABELS = ["service.istio.io/canonical-name", "app.kubernetes.io/name", "app"] as const;
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** Caps against a malformed object: a pod has at most a couple of IPs, a slice at most 1000 endpoints. */
const MAX_IPS = 8;
const MAX_ENDPOINTS = 1_000;

export function slimPod(raw: unknown): SlimPod | null {
  const metadata = slimMetadata(raw, KEPT_POD_LABELS);
  if (!metadata) return null;
  const spec = field(raw, "spec");
  const status = field(raw, "status");
  const podIps = strings(field(status, "podIPs"), (entry) => field(entry, "ip"));
  const podIp = text(field(status, "podIP"));
  if (podIp && !podIps.includes(podIp)) podIps.unshift(podIp);
  const phase = text(field(status, "phase"));
  return {
    metadata,
    hostNetwork: field(spec, "hostNetwork") === true,
    isActive: phase !== "Succeeded" && phase !== "Failed",
    podIps: podIps.slice(0, MAX_IPS),
    hostIp: text(field(status, "hostIP")),
    serviceAccount: text(field(spec, "serviceAccountName")) || text(field(spec, "serviceAccount")) || "default",
  };
}

export function slimService(raw: unknown): SlimService | null {
  const metadata = slimMetadata(raw, []);
  if (!metadata) return null;
  const spec = field(raw, "spec");
  const clusterIps = strings(field(spec, "clusterIPs"), (entry) => entry);
  const clusterIp = text(field(spec, "clusterIP"));
  if (clusterIp && !clusterIps.includes(clusterIp)) clusterIps.unshift(clusterIp);
  // Headless services have clusterIP "None": no virtual IP to resolve.
  return { metadata, clusterIps: clusterIps.filter((ip) => ip !== "None").slice(0, MAX_IPS) };
}

export function slimEndpointSlice(raw: unknown): SlimEndpointSlice | null {
  const metadata = slimMetadata(raw, [SERVICE_NAME_LABEL]);
  if (!metadata) return null;
  const rawEndpoints = field(raw, "endpoints");
  const endpoints: SlimEndpoint[] = [];
  if (Array.isArray(rawEndpoints)) {
    for (const endpoint of rawEndpoints.slice(0, MAX_ENDPOINTS)) {
      const targetRef = field(endpoint, "targetRef");
      const isPod = text(field(targetRef, "kind")) === "Pod";
      const podName = text(field(targetRef, "name"));
      const podNamespace = text(field(targetRef, "namespace")) || metadata.namespace;
      endpoints.push({
        addresses: strings(field(endpoint, "addresses"), (entry) => entry).slice(0, MAX_IPS),
        podKey: isPod && podName ? `${podNamespace}/${podName}` : "",
      });
    }
  }
  return { metadata, serviceName: metadata.labels[SERVICE_NAME_LABEL] ?? "", endpoints };
}

function slimMetadata(raw: unknown, keptLabels: readonly string[]): SlimMetadata | null {
  const metadata = field(raw, "metadata");
  const name = text(field(metadata, "name"));
  if (!name) return null;
  const rawLabels = field(metadata, "labels");
  const labels: Record<string, string> = {};
  for (const key of keptLabels) {
    const value = text(field(rawLabels, key));
    if (value) labels[key] = value;
  }
  return { name, namespace: text(field(metadata, "namespace")), resourceVersion: text(field(metadata, "resourceVersion")), labels };
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function strings(value: unknown, pick: (entry: unknown) => unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const entry of value) {
    const picked = text(pick(entry));
    if (picked) out.push(picked);
  }
  return out;
}
