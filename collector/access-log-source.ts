import type { ProxyRole } from "../core/model/access-log.ts";
import type { AccessLogFilesConfig } from "./receivers/access-log/config.ts";
import type { SourceIdentityConfig, StaticSourceIdentity } from "./receivers/access-log/source-identity.ts";

/**
 * Turns what an operator types (`--service reviews.default --instance reviews-v1-abc`, or the
 * receivers.accessLogFiles keys) into the source identity the access-log receivers attach to every line.
 */

export interface OperatorIdentity {
  /** `service` or `service.namespace` (SERVICE_NAME_PATTERN); unset means the UNKNOWN service. */
  service?: string;
  /** `pod`, `pod.namespace` or `ip:port`; a bare pod name gets the service's namespace. */
  instance?: string;
  role?: ProxyRole;
}

export function staticIdentityFrom(operator: OperatorIdentity): StaticSourceIdentity {
  const [service = "", namespace] = (operator.service ?? "").split(".", 2);
  // The namespace is kept apart (not only in the name) because peer resolution looks pods up by it.
  const identity: StaticSourceIdentity = { service, instance: operator.instance ?? "" };
  if (namespace !== undefined) identity.namespace = namespace;
  if (operator.role !== undefined) identity.role = operator.role;
  return identity;
}

/** The identity of tailed files: fixed, or read from each file's kubelet path with the fixed one as fallback. */
export function fileSourceIdentity(config: AccessLogFilesConfig): SourceIdentityConfig {
  const role = config.role === "auto" ? undefined : config.role;
  const fixed = staticIdentityFrom({ service: config.service, instance: config.instance, role });
  if (config.identity === "static") return { kind: "static", identity: fixed };
  const identity: SourceIdentityConfig = { kind: "path", pattern: "kubernetes", fallback: fixed };
  if (role !== undefined) identity.role = role;
  return identity;
}
