import type { ProxyIdentity, ProxyRole } from "../../../core/model/access-log.ts";
import { UNKNOWN_SERVICE } from "../../../core/model/dimensions.ts";

/**
 * A text line, unlike an ALS stream, does not say which proxy wrote it: the log source's config does,
 * either directly or through the log file's path. The line itself then gives direction (the `inbound|` /
 * `outbound|` cluster) and the peer; that part is the mesh resolver's job downstream.
 */

/** The proxy's own identity as an operator writes it in a source config. */
export interface StaticSourceIdentity {
  /** Service name as in the mesh (`reviews`); `.<namespace>` is appended when a namespace is given. */
  service: string;
  /** Pod name or `ip:port`; "" when unknown. */
  instance?: string;
  namespace?: string;
  role?: ProxyRole;
  ip?: string;
}

export type SourceIdentityConfig =
  | { kind: "static"; identity: StaticSourceIdentity }
  | {
      kind: "path";
      /**
       * `kubernetes` understands kubelet's `/var/log/pods/<ns>_<pod>_<uid>/<container>/N.log` and
       * `/var/log/containers/<pod>_<ns>_<container>-<id>.log`; a RegExp names its parts with the groups
       * `namespace`, `pod`, `service`, `container`.
       */
      pattern: "kubernetes" | RegExp;
      role?: ProxyRole;
      /** Used for paths the pattern does not match; without it those files get the UNKNOWN service. */
      fallback?: StaticSourceIdentity;
    };

/** Kubernetes' `rand.SafeEncodeString` alphabet (no vowels, no 0/1/3), used for pod-name suffixes and hashes. */
const POD_SUFFIX = /^[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const POD_TEMPLATE_HASH = /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/;
const STATEFUL_ORDINAL = /^\d+$/;

const KUBELET_POD_LOG = /\/pods\/(?<namespace>[^/_]+)_(?<pod>[^/_]+)_(?<uid>[^/_]+)\/(?<container>[^/]+)\/[^/]*$/;
const KUBELET_CONTAINER_LOG = /\/containers\/(?<pod>[^/_]+)_(?<namespace>[^/_]+)_(?<container>[^/]+)-[0-9a-f]{64}\.log$/;

/**
 * The workload name behind a pod name: `reviews-v1-d66dcfdc5-kh6v7` -> `reviews-v1` (Deployment: template
 * hash and random suffix), `fluentd-x7k2p` -> `fluentd` (DaemonSet, Job), `web-0` -> `web` (StatefulSet).
 */
export function workloadNameFromPod(pod: string): string {
  const parts = pod.split("-");
  if (parts.length < 2) return pod;
  const last = parts[parts.length - 1] as string;
  if (STATEFUL_ORDINAL.test(last)) return parts.slice(0, -1).join("-");
  if (!POD_SUFFIX.test(last)) return pod;
  parts.pop();
  if (parts.length >= 2 && POD_TEMPLATE_HASH.test(parts[parts.length - 1] as string)) parts.pop();
  return parts.join("-");
}

function qualified(name: string, namespace: string): string {
  if (name === "" || namespace === "" || name === UNKNOWN_SERVICE || name.includes(".")) return name;
  return `${name}.${namespace}`;
}

/** Gateways log as Envoy `router~` nodes; their pods are named after the gateway deployment. */
function roleForPod(pod: string, configured: ProxyRole | undefined): ProxyRole {
  if (configured !== undefined) return configured;
  return /^istio-(ingress|egress)gateway|gateway-/.test(pod) ? "router" : "sidecar";
}

export function identityFromStatic(identity: StaticSourceIdentity): ProxyIdentity {
  const namespace = identity.namespace ?? "";
  return {
    role: identity.role ?? "sidecar",
    self: { service: qualified(identity.service || UNKNOWN_SERVICE, namespace), instance: qualified(identity.instance ?? "", namespace) },
    namespace,
    ip: identity.ip ?? "",
    attributes: {},
  };
}

/** Identity from a log file's path, or null when the pattern does not match it. */
export function identityFromPath(path: string, pattern: "kubernetes" | RegExp, role?: ProxyRole): ProxyIdentity | null {
  const groups = pattern === "kubernetes" ? (KUBELET_POD_LOG.exec(path) ?? KUBELET_CONTAINER_LOG.exec(path))?.groups : pattern.exec(path)?.groups;
  if (groups === undefined) return null;
  const namespace = groups.namespace ?? "";
  const pod = groups.pod ?? "";
  const service = groups.service ?? (pod === "" ? UNKNOWN_SERVICE : workloadNameFromPod(pod));
  const attributes: Record<string, string> = { "log.file.path": path };
  if (pod !== "") attributes.pod = pod;
  if (groups.container !== undefined) attributes.container = groups.container;
  if (groups.uid !== undefined) attributes["pod.uid"] = groups.uid;
  return {
    role: roleForPod(pod, role),
    self: { service: qualified(service, namespace), instance: qualified(pod, namespace) },
    namespace,
    ip: "",
    attributes,
    selfIsGuess: groups.service === undefined,
  };
}

/** The identity of the proxy that wrote the lines of `path` (or of a stream, when `path` is ""). */
export function resolveSourceIdentity(config: SourceIdentityConfig, path: string): ProxyIdentity {
  if (config.kind === "static") return identityFromStatic(config.identity);
  return identityFromPath(path, config.pattern, config.role) ?? identityFromStatic(config.fallback ?? { service: UNKNOWN_SERVICE, role: config.role });
}
