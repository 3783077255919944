/**
 * Envoy cluster names as Istio builds them (`BuildSubsetKey` in istio/istio: `direction|port|subset|host`),
 * which tell a sidecar's inbound traffic from its outbound traffic and name the upstream host.
 */

export type ClusterDirection = "inbound" | "outbound" | "unknown";

export type ClusterKind =
  /** `inbound|9080||`, `outbound|9080|v1|reviews.default.svc.cluster.local` */
  | "subset-key"
  /** `outbound_.9080_._.reviews.default.svc.cluster.local` (DNS SRV / SNI form) */
  | "sni"
  /** Istio's catch-all for traffic to destinations it does not know. */
  | "passthrough"
  | "inbound-passthrough"
  | "blackhole"
  /** Empty: Envoy sets the cluster only when it selected an upstream host (NR and UH entries have none). */
  | "blank"
  /** Any other name: plain Envoy configs or clusters Istio does not build. */
  | "other";

export interface ParsedClusterName {
  direction: ClusterDirection;
  kind: ClusterKind;
  /** 0 when the name carries no port. */
  port: number;
  subset: string;
  /** Fully qualified upstream host, e.g. `reviews.default.svc.cluster.local`; "" when absent. */
  host: string;
  /** `reviews.default` for Kubernetes hosts, the host itself otherwise, "" without a host. */
  serviceFromHost: string;
}

const SPECIAL_CLUSTERS: Readonly<Record<string, ParsedClusterName>> = {
  PassthroughCluster: special("outbound", "passthrough"),
  BlackHoleCluster: special("outbound", "blackhole"),
  InboundPassthroughClusterIpv4: special("inbound", "inbound-passthrough"),
  InboundPassthroughClusterIpv6: special("inbound", "inbound-passthrough"),
  // Istio < 1.6 had a single inbound passthrough cluster.
  InboundPassthroughCluster: special("inbound", "inbound-passthrough"),
};

const BLANK: ParsedClusterName = special("unknown", "blank");

export function parseClusterName(rawName: string): ParsedClusterName {
  // Istio >= 1.23 sets alt_stat_name, so `%UPSTREAM_CLUSTER%` in text logs can end with `;` and more
  // (istio/istio#54219); the raw cluster name is what precedes it.
  const semicolon = rawName.indexOf(";");
  const name = (semicolon >= 0 ? rawName.slice(0, semicolon) : rawName).trim();
  if (name === "" || name === "-") return BLANK;

  const specialCluster = SPECIAL_CLUSTERS[name];
  if (specialCluster) return specialCluster;

  if (name.startsWith("inbound|") || name.startsWith("outbound|")) return parseSubsetKey(name);
  if (name.startsWith("outbound_.") || name.startsWith("inbound_.")) return parseSniForm(name);
  return { direction: "unknown", kind: "other", port: 0, subset: "", host: "", serviceFromHost: "" };
}

/** `direction|port|subset|host`; old Istio put the port name in the subset slot of inbound keys. */
function parseSubsetKey(name: string): ParsedClusterName {
  const [direction = "", port = "", subset = "", ...hostParts] = name.split("|");
  const host = hostParts.join("|");
  return {
    direction: direction === "inbound" ? "inbound" : "outbound",
    kind: "subset-key",
    port: parsePort(port),
    subset,
    host,
    serviceFromHost: serviceFromHost(host),
  };
}

/** Istio's `BuildDNSSrvSubsetKey`: `%s_.%d_.%s_.%s`, e.g. `outbound_.9080_.v1_.reviews.default.svc.cluster.local`. */
function parseSniForm(name: string): ParsedClusterName {
  const match = /^(outbound|inbound)_\.(\d*)_\.(.*?)_\.(.*)$/.exec(name);
  if (!match) return { direction: "unknown", kind: "other", port: 0, subset: "", host: "", serviceFromHost: "" };
  const [, direction = "", port = "", subset = "", host = ""] = match;
  return {
    direction: direction === "inbound" ? "inbound" : "outbound",
    kind: "sni",
    port: parsePort(port),
    subset,
    host,
    serviceFromHost: serviceFromHost(host),
  };
}

/**
 * `reviews.default.svc.cluster.local` -> `reviews.default`, the same `<name>.<namespace>` a pod of that
 * service gets, so a peer named from its host and one named from its pod labels meet. Anything without
 * `.svc` (a ServiceEntry host such as `api.example.com`) is kept whole: it is not ours to shorten.
 */
export function serviceFromHost(host: string): string {
  if (host === "") return "";
  const svc = host.indexOf(".svc");
  if (svc > 0 && (svc + 4 === host.length || host.charCodeAt(svc + 4) === 46 /* . */)) {
    const nameAndNamespace = host.slice(0, svc);
    if (nameAndNamespace.includes(".")) return nameAndNamespace;
  }
  return host;
}

function parsePort(text: string): number {
  const port = Number(text);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : 0;
}

function special(direction: ClusterDirection, kind: ClusterKind): ParsedClusterName {
  return Object.freeze({ direction, kind, port: 0, subset: "", host: "", serviceFromHost: "" });
}
