import { isIP } from "node:net";
import type { NodeInfo, ProxyIdentity, ProxyRole } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import { nameFromLabels, qualifiedName, usableName } from "./workload-name.ts";

/**
 * Who is logging: the identity of the Envoy that opened an ALS stream, from `identifier.node`.
 *
 * Istio node ids are `<type>~<ip>~<pod>.<ns>~<ns>.svc.cluster.local` (istio/istio `pkg/model/context.go`
 * splits on `~` and requires exactly four parts); node metadata keys come from `pkg/model/proxy.go`.
 * Istio 1.1-era proxies sent flat keys instead (`POD_NAME`, `CONFIG_NAMESPACE`, `ISTIO_META_INSTANCE_IPS`,
 * labels inlined at the top level), so both layouts are read. Plain Envoy (no Istio metadata) falls back to
 * Envoy's own convention: `node.cluster` names the service and `node.id` the instance.
 */
export function resolveProxyIdentity(node: NodeInfo): ProxyIdentity {
  const metadata = isPlainObject(node.metadata) ? node.metadata : {};
  const idParts = parseIstioNodeId(node.id);
  const labels = readLabels(metadata);

  const podAndNamespace = idParts ? splitPodAndNamespace(idParts.podDotNamespace) : null;
  const namespace =
    usableName(metadata.NAMESPACE) ||
    usableName(metadata.CONFIG_NAMESPACE) ||
    podAndNamespace?.namespace ||
    (idParts ? namespaceFromDomain(idParts.domain) : "");
  const pod = usableName(metadata.NAME) || usableName(metadata.POD_NAME) || podAndNamespace?.pod || "";

  const workloadName = nameFromLabels(labels) || usableName(metadata.WORKLOAD_NAME);
  const isIstioProxy = idParts !== null || namespace !== "";
  let service = UNKNOWN_SERVICE;
  if (workloadName) service = qualifiedName(workloadName, namespace);
  else if (!isIstioProxy && usableName(node.cluster)) service = usableName(node.cluster);

  let instance = "";
  if (pod) instance = qualifiedName(pod, namespace);
  else if (!isIstioProxy && usableName(node.id)) instance = usableName(node.id);

  const ip = (idParts && isIP(idParts.ip) ? idParts.ip : "") || firstIp(metadata.INSTANCE_IPS) || firstIp(metadata.ISTIO_META_INSTANCE_IPS);

  return {
    role: idParts?.role ?? roleFromPrefix(node.id),
    self: { service, instance },
    namespace,
    ip,
    attributes: buildAttributes(metadata, labels, { pod, namespace, ip }),
  };
}

interface IstioNodeId {
  role: ProxyRole;
  ip: string;
  podDotNamespace: string;
  domain: string;
}

function parseIstioNodeId(id: string): IstioNodeId | null {
  if (typeof id !== "string") return null;
  const parts = id.split("~");
  if (parts.length !== 4) return null;
  const [type = "", ip = "", podDotNamespace = "", domain = ""] = parts;
  return { role: roleFromType(type), ip, podDotNamespace, domain };
}

/** SkyWalking's AccessLogAnalyzer.identify: the prefix decides, anything else (ztunnel, plain Envoy) is "none". */
function roleFromPrefix(id: string): ProxyRole {
  if (typeof id !== "string") return "none";
  const tilde = id.indexOf("~");
  return tilde < 0 ? "none" : roleFromType(id.slice(0, tilde));
}

function roleFromType(type: string): ProxyRole {
  if (type === "sidecar" || type === "router" || type === "waypoint") return type;
  return "none";
}

/** `reviews-v1-d66dcfdc5-kh6v7.default` -> pod and namespace; the namespace never contains a dot. */
function splitPodAndNamespace(podDotNamespace: string): { pod: string; namespace: string } | null {
  const dot = podDotNamespace.lastIndexOf(".");
  if (dot <= 0 || dot === podDotNamespace.length - 1) return null;
  return { pod: podDotNamespace.slice(0, dot), namespace: podDotNamespace.slice(dot + 1) };
}

/** `default.svc.cluster.local` -> `default`. */
function namespaceFromDomain(domain: string): string {
  const dot = domain.indexOf(".svc");
  return dot > 0 ? domain.slice(0, dot) : "";
}

function firstIp(value: unknown): string {
  if (typeof value !== "string") return "";
  for (const candidate of value.split(",")) {
    const ip = candidate.trim();
    if (isIP(ip)) return ip;
  }
  return "";
}

/** Metadata keys of the old flat layout that are Istio's own, not pod labels. */
const UPPER_CASE_KEY = /^[A-Z0-9_]+$/;
const MAX_LABELS = 64;
const MAX_ATTRIBUTE_LENGTH = 256;

/**
 * Pod labels: the `LABELS` struct on modern Istio; on Istio 1.1 the labels sit at the top level beside
 * upper-case Istio keys, so every lower-case string entry is taken as a label there.
 */
function readLabels(metadata: Record<string, unknown>): Record<string, string> {
  const source = isPlainObject(metadata.LABELS) ? metadata.LABELS : null;
  const labels: Record<string, string> = {};
  let count = 0;
  for (const [key, value] of Object.entries(source ?? metadata)) {
    if (count >= MAX_LABELS) break;
    if (typeof value !== "string") continue;
    if (!source && UPPER_CASE_KEY.test(key)) continue;
    labels[key] = value.slice(0, MAX_ATTRIBUTE_LENGTH);
    count++;
  }
  return labels;
}

function buildAttributes(
  metadata: Record<string, unknown>,
  labels: Record<string, string>,
  known: { pod: string; namespace: string; ip: string },
): Record<string, string> {
  const attributes: Record<string, string> = {};
  const put = (key: string, value: unknown): void => {
    const text = usableName(value);
    if (text) attributes[key] = text.slice(0, MAX_ATTRIBUTE_LENGTH);
  };
  put("pod", known.pod);
  put("namespace", known.namespace);
  put("ip", known.ip);
  put("version", labels["service.istio.io/canonical-revision"] || labels.version);
  put("cluster_id", metadata.CLUSTER_ID);
  put("node_name", metadata.NODE_NAME);
  put("workload", metadata.WORKLOAD_NAME);
  put("service_account", metadata.SERVICE_ACCOUNT);
  put("istio_version", metadata.ISTIO_VERSION ?? metadata.ISTIO_PROXY_VERSION);
  put("mesh_id", metadata.MESH_ID);
  for (const [key, value] of Object.entries(labels)) attributes[`label.${key}`] = value;
  return attributes;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
