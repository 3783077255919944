import type { PeerMetadata } from "../../core/model/access-log.ts";
import type { ServiceRef } from "../../core/model/dimensions.ts";
import { BoundedMap } from "./bounded-map.ts";
import { nameFromLabels, qualifiedName, usableName } from "./workload-name.ts";

interface CachedPeer {
  workloadName: string;
  ref: ServiceRef;
}

/**
 * Turns Istio peer metadata (filter state `downstream_peer` / `upstream_peer`) into the same
 * `<name>.<namespace>` / `<pod>.<namespace>` names proxy identity and the Kubernetes resolver give.
 *
 * Decoders hand a fresh PeerMetadata per entry, but the set of pods is small: refs are cached per
 * namespace and pod (two map reads, no key string built), so the hot path allocates nothing for a peer it
 * has seen. Bounded: the cache forgets its oldest pods past `maxPeers`.
 */
export class PeerRefCache {
  private readonly byNamespace = new Map<string, BoundedMap<string, CachedPeer>>();
  private cachedPeers = 0;

  constructor(private readonly maxPeers = 50_000) {}

  /** Null when the metadata names no workload (then the caller tries the next source). */
  refOf(peer: PeerMetadata): ServiceRef | null {
    const workloadName = usableName(peer.service) || nameFromLabels(peer.labels ?? {}) || usableName(peer.workload);
    if (!workloadName) return null;
    const namespace = usableName(peer.namespace);
    const pod = usableName(peer.name);

    const pods = this.byNamespace.get(namespace);
    const cached = pods?.get(pod);
    // A pod keeps its name for life, but labels (and so the service name) may be edited: check, don't trust.
    if (cached && cached.workloadName === workloadName) return cached.ref;

    const ref: ServiceRef = Object.freeze({
      service: qualifiedName(workloadName, namespace),
      instance: pod ? qualifiedName(pod, namespace) : "",
    });
    this.remember(namespace, pod, { workloadName, ref }, cached !== undefined);
    return ref;
  }

  private remember(namespace: string, pod: string, peer: CachedPeer, isReplacement: boolean): void {
    if (!isReplacement && this.cachedPeers >= this.maxPeers) {
      // Coarse but bounded: a flood of distinct pods resets the cache instead of growing it.
      this.byNamespace.clear();
      this.cachedPeers = 0;
    }
    let pods = this.byNamespace.get(namespace);
    if (!pods) {
      pods = new BoundedMap(this.maxPeers);
      this.byNamespace.set(namespace, pods);
    }
    pods.set(pod, peer);
    if (!isReplacement) this.cachedPeers++;
  }
}
