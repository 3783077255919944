/**
 * The one place that turns Kubernetes-style labels into a service name, shared by proxy identity (node
 * metadata), peer metadata (filter state) and the Kubernetes resolver (pod labels), so the same workload
 * gets the same name whichever way it was seen. Order follows SkyWalking's k8s-mesh fallback rule:
 * `service.istio.io/canonical-name`, then `app.kubernetes.io/name`, then `app`.
 */

const CANONICAL_NAME_LABEL = "service.istio.io/canonical-name";
const RECOMMENDED_NAME_LABEL = "app.kubernetes.io/name";
const APP_LABEL = "app";

/** Labels carry names only: anything longer is not a name and would blow up cardinality. */
const MAX_NAME_LENGTH = 253;

/** The workload name from labels, or "" when no naming label is set. */
export function nameFromLabels(labels: Readonly<Record<string, unknown>>): string {
  return (
    usableName(labels[CANONICAL_NAME_LABEL]) || usableName(labels[RECOMMENDED_NAME_LABEL]) || usableName(labels[APP_LABEL])
  );
}

/** A string value that can serve as a name, else "". */
export function usableName(value: unknown): string {
  if (typeof value !== "string") return "";
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= MAX_NAME_LENGTH ? trimmed : "";
}

/** `<name>.<namespace>`, or the bare name when the namespace is unknown. */
export function qualifiedName(name: string, namespace: string): string {
  return namespace ? `${name}.${namespace}` : name;
}
