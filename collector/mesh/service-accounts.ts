import type { ProxyIdentity } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE, type ServiceRef } from "../../core/model/dimensions.ts";
import { BoundedMap } from "./bounded-map.ts";
import { usableName } from "./workload-name.ts";

/** A service account as an mTLS identity names it: `<namespace>/<name>`. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
  key: string;
}

/**
 * Istio's workload identity is `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`
 * (https://istio.io/latest/docs/concepts/security/#istio-identity); anything else names no service account.
 * The trust domain is not part of the key: one meshsight serves one mesh.
 */
export function parseSpiffeId(uri: string): ServiceAccountRef | null {
  if (!uri.startsWith("spiffe://")) return null;
  const parts = uri.slice("spiffe://".length).split("/");
  if (parts.length !== 5 || parts[1] !== "ns" || parts[3] !== "sa") return null;
  const namespace = usableName(parts[2]);
  const name = usableName(parts[4]);
  if (namespace === "" || name === "") return null;
  return { namespace, name, key: `${namespace}/${name}` };
}

/** Marks a service account that several services run as: its identity names no single caller. */
const SHARED = Symbol("shared service account");

/** Service accounts of a mesh are few (one per workload at most); this bounds hostile node metadata. */
const MAX_SERVICE_ACCOUNTS = 65_536;

/**
 * The services behind service accounts as the sidecars themselves report them: every ALS stream opens with
 * its node metadata (`SERVICE_ACCOUNT`, `NAMESPACE`, labels), so a mesh's identities are learned without any
 * Kubernetes API. A service account two services share (a namespace's `default`) names neither: an mTLS
 * identity then says only "one of them", which is no attribution.
 */
export class LearnedServiceAccounts {
  private readonly services = new BoundedMap<string, ServiceRef | typeof SHARED>(MAX_SERVICE_ACCOUNTS);
  /** Proxies already learned from: an identity is per stream, its entries are many. */
  private readonly learnedFrom = new WeakSet<ProxyIdentity>();

  learn(proxy: ProxyIdentity, service: string): void {
    // A proxy still unnamed (an old gateway whose pod Kubernetes has not listed yet) is learned from later.
    if (service === UNKNOWN_SERVICE || this.learnedFrom.has(proxy)) return;
    this.learnedFrom.add(proxy);
    const account = usableName(proxy.attributes["service_account"]);
    if (account === "" || proxy.namespace === "") return;
    const key = `${proxy.namespace}/${account}`;
    const known = this.services.get(key);
    if (known === undefined) this.services.set(key, Object.freeze({ service, instance: "" }));
    else if (known !== SHARED && known.service !== service) this.services.set(key, SHARED);
  }

  /** The one service running as `account`, or null when none reported it or several share it. */
  serviceOf(account: ServiceAccountRef): ServiceRef | null {
    const known = this.services.get(account.key);
    return known === undefined || known === SHARED ? null : known;
  }
}
