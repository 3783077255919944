import type { AccessLogEntry, ProxyIdentity } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE, type ServiceRef } from "../../core/model/dimensions.ts";
import { ownedCopy } from "../../core/text/owned-copy.ts";
import { BoundedMap } from "./bounded-map.ts";
import { parseClusterName, type ParsedClusterName } from "./cluster-name.ts";

const SERVICE_HOST = /^[a-z]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Proxies whose service is being learned; one per tailed pod, so this bounds a hostile source config only. */
const MAX_LEARNED_SELVES = 65_536;

export interface SelfSources {
  /** Names the workload listening on an `ip:port` (the mesh resolver's IP lookup). */
  serviceByAddress: (address: string) => ServiceRef | null;
  /** Names a pod by namespace and name (Kubernetes), null when unknown. */
  serviceByPod: (namespace: string, pod: string) => ServiceRef | null;
}

/**
 * The real service of a proxy whose node metadata names none (Istio 1.1-1.5 proxies report a node id such as
 * `router~10.44.2.56~istio-ingressgateway-699c7dc774-hjxq5.istio-system~istio-system.svc.cluster.local` and
 * flat metadata without labels): its own pod, found by name and namespace or by its address, names it, as
 * it names the pod for its callers. Until the pod is known the proxy stays `UNKNOWN`.
 *
 * The real service of a proxy whose identity was only guessed (a tailed log file names the pod, and the
 * pod name gives the workload `reviews-v1`, while callers know the service as `reviews`). Each entry the
 * proxy logs may say what its callers call it; the first answer is kept for the pod (a pod never changes
 * its service), so callers' edges and the pod's own metrics meet on one name.
 *
 * Sources, most trusted first: the proxy's own address through the peer resolver (Kubernetes pod labels
 * or the static mapping, the same answer its callers get); the inbound SNI or old Istio's inbound cluster
 * host (`outbound_.9080_._.reviews.default.svc.cluster.local`); and the `:authority` of an inbound request
 * when it is a Kubernetes service name of the proxy's own namespace (`reviews`, `reviews.default`, ...).
 */
export class LearnedSelfServices {
  private readonly learned = new BoundedMap<string, ServiceRef>(MAX_LEARNED_SELVES);

  constructor(private readonly sources: SelfSources) {}

  /** What is known of `proxy` without a new entry: the learned service, else its own (guessed) one. */
  known(proxy: ProxyIdentity): ServiceRef {
    return isLearned(proxy) ? (this.learned.get(learnedKey(proxy)) ?? proxy.self) : proxy.self;
  }

  selfOf(proxy: ProxyIdentity, entry: AccessLogEntry, cluster: ParsedClusterName): ServiceRef {
    if (proxy.selfIsGuess !== true) return proxy.self.service === UNKNOWN_SERVICE ? this.fromOwnPod(proxy) : proxy.self;
    const key = proxy.self.instance;
    const known = this.learned.get(key);
    if (known !== undefined) return known;
    const service = this.serviceFromEntry(proxy, entry, cluster);
    if (service === "") return proxy.self;
    // Cut from the entry's fields: copied, or the learned name would keep the entry's lines alive.
    const ref: ServiceRef = Object.freeze({ service: ownedCopy(service), instance: proxy.self.instance });
    this.learned.set(key, ref);
    return ref;
  }

  private fromOwnPod(proxy: ProxyIdentity): ServiceRef {
    const key = learnedKey(proxy);
    if (key === "") return proxy.self;
    const known = this.learned.get(key);
    if (known !== undefined) return known;
    const pod = proxy.attributes["pod"] ?? "";
    const found = (pod === "" ? null : this.sources.serviceByPod(proxy.namespace, pod)) ?? (proxy.ip === "" ? null : this.sources.serviceByAddress(proxy.ip));
    if (found === null || found.service === UNKNOWN_SERVICE) return proxy.self;
    const ref: ServiceRef = Object.freeze({ service: found.service, instance: proxy.self.instance || found.instance });
    this.learned.set(key, ref);
    return ref;
  }

  private serviceFromEntry(proxy: ProxyIdentity, entry: AccessLogEntry, cluster: ParsedClusterName): string {
    const inbound = cluster.direction === "inbound";
    const ownAddress = inbound ? entry.downstreamLocalAddress : entry.upstreamLocalAddress;
    const byAddress = ownAddress === "" ? null : this.sources.serviceByAddress(ownAddress);
    if (byAddress !== null && byAddress.service !== UNKNOWN_SERVICE) return byAddress.service;
    if (!inbound) return "";
    if (cluster.serviceFromHost !== "") return cluster.serviceFromHost;
    const sni = entry.requestedServerName === "" ? null : parseClusterName(entry.requestedServerName);
    if (sni !== null && sni.kind === "sni" && sni.serviceFromHost !== "") return sni.serviceFromHost;
    return serviceFromAuthority(entry.authority, proxy.namespace);
  }
}

function isLearned(proxy: ProxyIdentity): boolean {
  return proxy.selfIsGuess === true || proxy.self.service === UNKNOWN_SERVICE;
}

/** Guessed identities are learned per pod (instance); unnamed proxies per pod, else per address. */
function learnedKey(proxy: ProxyIdentity): string {
  return proxy.self.instance || proxy.ip;
}

/**
 * `reviews`, `reviews:9080`, `reviews.default`, `reviews.default.svc.cluster.local` -> `reviews.default`
 * for a proxy in `default`. Anything else ("" for it) may be a public host name a gateway passed on
 * (`bookinfo.example.com`), an IP (kubelet health checks), or another namespace's service reached
 * through a shared host name: none of them names this pod's service.
 */
export function serviceFromAuthority(authority: string, namespace: string): string {
  if (authority === "" || namespace === "") return "";
  const colon = authority.lastIndexOf(":");
  const host = (colon > 0 ? authority.slice(0, colon) : authority).toLowerCase();
  // Service names are DNS-1035 labels: they start with a letter, so an IP never passes.
  if (!SERVICE_HOST.test(host) || host === "localhost") return "";
  const dot = host.indexOf(".");
  const name = dot < 0 ? host : host.slice(0, dot);
  const rest = dot < 0 ? namespace : host.slice(dot + 1);
  const isOwnNamespace = rest === namespace || rest === `${namespace}.svc` || rest.startsWith(`${namespace}.svc.`);
  return isOwnNamespace ? `${name}.${namespace}` : "";
}
