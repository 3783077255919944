import type { ServiceRef } from "../../../core/model/dimensions.ts";
import { nameFromLabels, qualifiedName } from "../workload-name.ts";
import type { SlimEndpointSlice, SlimPod, SlimService } from "./slim-objects.ts";

interface IndexedPod {
  ips: string[];
  hostIp: string;
  hostNetwork: boolean;
  /** From the pod's naming labels, "" when it has none (then its Service names it). */
  workloadName: string;
  namespace: string;
  name: string;
  /** `<namespace>/<service account>`. */
  serviceAccountKey: string;
}

interface IndexedSlice {
  serviceName: string;
  namespace: string;
  addresses: string[];
  podKeys: string[];
}

/**
 * IP -> pod -> service, built from watched pods, Services and EndpointSlices (SkyWalking's
 * K8SServiceRegistry does the same walk). Every change returns the IPs it touched so the resolver's
 * answer cache can drop exactly those.
 *
 * Naming: a pod IP is `<canonical-name>.<ns>` / `<pod>.<ns>` from its labels, as proxy identity names the
 * sidecar itself; a pod without naming labels takes the name of the Service whose EndpointSlice lists it.
 * Node IPs (any pod's hostIP, and host-network pods, which share the node's IP) are deliberately unknown:
 * many workloads share them, so naming them after one would be wrong. A Service's cluster IP names the
 * Service with no instance; an EndpointSlice address with no pod behind it (a VM) names the Service with
 * the IP as instance.
 *
 * Bounded: past `maxObjects` pods (or services, or slices) new ones are refused (counted by the caller)
 * rather than evicting live ones, which would leave dangling IP entries behind.
 */
export class ClusterIndex {
  private readonly pods = new Map<string, IndexedPod>();
  private readonly podKeyByIp = new Map<string, string>();
  /** Node IP -> how many indexed pods run on (or as) it. */
  private readonly nodeIpRefs = new Map<string, number>();
  private readonly serviceByClusterIp = new Map<string, string>();
  private readonly clusterIpsByService = new Map<string, string[]>();
  private readonly slices = new Map<string, IndexedSlice>();
  private readonly serviceByPodKey = new Map<string, string>();
  private readonly serviceByEndpointIp = new Map<string, string>();
  private readonly podKeysByServiceAccount = new Map<string, Set<string>>();

  constructor(private readonly maxObjects: number) {}

  get podCount(): number {
    return this.pods.size;
  }

  /** The peer behind `ip`, or null when unknown or a node IP. Builds a fresh ref: callers cache it. */
  lookUp(ip: string): ServiceRef | null {
    if (this.nodeIpRefs.has(ip)) return null;
    const podKey = this.podKeyByIp.get(ip);
    const pod = podKey === undefined ? undefined : this.pods.get(podKey);
    if (pod && podKey !== undefined) return pod.hostNetwork ? null : this.podRef(podKey, pod);
    const clusterService = this.serviceByClusterIp.get(ip);
    if (clusterService) return { service: clusterService, instance: "" };
    const endpointService = this.serviceByEndpointIp.get(ip);
    if (endpointService) return { service: endpointService, instance: ip };
    return null;
  }

  /** A pod by namespace and name (proxies that report only their pod name), null when unknown or unnamed. */
  lookUpPod(namespace: string, name: string): ServiceRef | null {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    return pod ? this.podRef(key, pod) : null;
  }

  /**
   * The one service whose pods run as a service account (an mTLS identity), with no instance: the identity
   * is shared by every replica. Null when no pod runs as it, or pods of several services do.
   */
  lookUpServiceAccount(serviceAccountKey: string): ServiceRef | null {
    let service = "";
    for (const podKey of this.podKeysByServiceAccount.get(serviceAccountKey) ?? []) {
      const pod = this.pods.get(podKey);
      const ref = pod ? this.podRef(podKey, pod) : null;
      if (ref === null) continue;
      if (service !== "" && ref.service !== service) return null;
      service = ref.service;
    }
    return service === "" ? null : { service, instance: "" };
  }

  /** Returns the touched IPs, or null when the index is full and the pod was refused. */
  upsertPod(pod: SlimPod): string[] | null {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const previous = this.pods.get(key);
    if (!previous && this.pods.size >= this.maxObjects) return null;
    const touched = previous ? this.unindexPod(key, previous) : [];
    const indexed: IndexedPod = {
      ips: pod.isActive ? pod.podIps : [],
      hostIp: pod.hostIp,
      hostNetwork: pod.hostNetwork,
      workloadName: nameFromLabels(pod.metadata.labels),
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      serviceAccountKey: `${pod.metadata.namespace}/${pod.serviceAccount}`,
    };
    this.pods.set(key, indexed);
    let accountPods = this.podKeysByServiceAccount.get(indexed.serviceAccountKey);
    if (accountPods === undefined) {
      accountPods = new Set();
      this.podKeysByServiceAccount.set(indexed.serviceAccountKey, accountPods);
    }
    accountPods.add(key);
    for (const ip of indexed.ips) this.podKeyByIp.set(ip, key);
    if (indexed.hostNetwork) for (const ip of indexed.ips) this.addNodeIp(ip);
    if (indexed.hostIp) this.addNodeIp(indexed.hostIp);
    touched.push(...indexed.ips, indexed.hostIp);
    return touched;
  }

  deletePod(pod: SlimPod): string[] {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const previous = this.pods.get(key);
    if (!previous) return [];
    this.pods.delete(key);
    return this.unindexPod(key, previous);
  }

  /** Returns the touched IPs, or null when the index is full and the service was refused. */
  upsertService(service: SlimService): string[] | null {
    const name = qualifiedName(service.metadata.name, service.metadata.namespace);
    if (!this.clusterIpsByService.has(name) && this.clusterIpsByService.size >= this.maxObjects) return null;
    const touched = this.deleteServiceByName(name);
    this.clusterIpsByService.set(name, service.clusterIps);
    for (const ip of service.clusterIps) this.serviceByClusterIp.set(ip, name);
    touched.push(...service.clusterIps);
    return touched;
  }

  deleteService(service: SlimService): string[] {
    return this.deleteServiceByName(qualifiedName(service.metadata.name, service.metadata.namespace));
  }

  /** Returns the touched IPs, or null when the index is full and the slice was refused. */
  upsertEndpointSlice(slice: SlimEndpointSlice): string[] | null {
    const key = `${slice.metadata.namespace}/${slice.metadata.name}`;
    if (!this.slices.has(key) && this.slices.size >= this.maxObjects) return null;
    const touched = this.deleteSliceByKey(key);
    if (!slice.serviceName) return touched;
    const service = qualifiedName(slice.serviceName, slice.metadata.namespace);
    const indexed: IndexedSlice = { serviceName: service, namespace: slice.metadata.namespace, addresses: [], podKeys: [] };
    for (const endpoint of slice.endpoints) {
      if (endpoint.podKey) {
        indexed.podKeys.push(endpoint.podKey);
        if (!this.serviceByPodKey.has(endpoint.podKey)) this.serviceByPodKey.set(endpoint.podKey, service);
      } else {
        for (const ip of endpoint.addresses) if (!this.serviceByEndpointIp.has(ip)) this.serviceByEndpointIp.set(ip, service);
      }
      indexed.addresses.push(...endpoint.addresses);
    }
    this.slices.set(key, indexed);
    touched.push(...indexed.addresses);
    return touched;
  }

  deleteEndpointSlice(slice: SlimEndpointSlice): string[] {
    return this.deleteSliceByKey(`${slice.metadata.namespace}/${slice.metadata.name}`);
  }

  private podRef(podKey: string, pod: IndexedPod): ServiceRef | null {
    const service = pod.workloadName ? qualifiedName(pod.workloadName, pod.namespace) : this.serviceByPodKey.get(podKey);
    return service ? { service, instance: qualifiedName(pod.name, pod.namespace) } : null;
  }

  private unindexPod(key: string, pod: IndexedPod): string[] {
    const accountPods = this.podKeysByServiceAccount.get(pod.serviceAccountKey);
    accountPods?.delete(key);
    if (accountPods?.size === 0) this.podKeysByServiceAccount.delete(pod.serviceAccountKey);
    for (const ip of pod.ips) if (this.podKeyByIp.get(ip) === key) this.podKeyByIp.delete(ip);
    if (pod.hostNetwork) for (const ip of pod.ips) this.releaseNodeIp(ip);
    if (pod.hostIp) this.releaseNodeIp(pod.hostIp);
    return [...pod.ips, pod.hostIp];
  }

  private deleteServiceByName(name: string): string[] {
    const ips = this.clusterIpsByService.get(name) ?? [];
    this.clusterIpsByService.delete(name);
    for (const ip of ips) if (this.serviceByClusterIp.get(ip) === name) this.serviceByClusterIp.delete(ip);
    return [...ips];
  }

  private deleteSliceByKey(key: string): string[] {
    const previous = this.slices.get(key);
    if (!previous) return [];
    this.slices.delete(key);
    for (const podKey of previous.podKeys) {
      if (this.serviceByPodKey.get(podKey) === previous.serviceName) this.serviceByPodKey.delete(podKey);
    }
    for (const ip of previous.addresses) {
      if (this.serviceByEndpointIp.get(ip) === previous.serviceName) this.serviceByEndpointIp.delete(ip);
    }
    return previous.addresses;
  }

  private addNodeIp(ip: string): void {
    this.nodeIpRefs.set(ip, (this.nodeIpRefs.get(ip) ?? 0) + 1);
  }

  private releaseNodeIp(ip: string): void {
    const count = this.nodeIpRefs.get(ip) ?? 0;
    if (count <= 1) this.nodeIpRefs.delete(ip);
    else this.nodeIpRefs.set(ip, count - 1);
  }
}
