import { dnsKind } from "./dns-kind.ts";
import { grpcKind } from "./grpc-kind.ts";
import { httpKind } from "./http/http-kind.ts";
import { createK8sJobKind, type K8sJobKindOptions } from "./k8s-job/k8s-job-kind.ts";
import { InvalidProbeSpecError, type ProbeKind } from "./kind.ts";
import { createScriptKind, DEFAULT_SCRIPT_KIND_OPTIONS, type ScriptKindOptions } from "./script/script-kind.ts";
import { tcpKind } from "./tcp-kind.ts";
import { tlsKind } from "./tls-kind.ts";

export interface ProbeKindRegistryOptions {
  /** Where script cases live and their limits; the `script` kind is off without it. */
  script?: Partial<ScriptKindOptions> & Pick<ScriptKindOptions, "casesDir">;
  /** Cluster access and the report URL; the `k8s-job` kind is off without it (no Kubernetes configured). */
  k8sJob?: K8sJobKindOptions;
}

/** Why a known kind is unavailable in this process, so a case using it gets a message that says what to configure. */
const UNAVAILABLE_BECAUSE: Record<string, string> = {
  script: "no script cases directory is configured",
  "k8s-job": "no Kubernetes access or report URL is configured",
};

/** The probe kinds this process can run, by name; what parseProbeCase and the runner look kinds up in. */
export class ProbeKindRegistry {
  private readonly kinds = new Map<string, ProbeKind<unknown>>();

  constructor(kinds: readonly ProbeKind<unknown>[]) {
    for (const kind of kinds) {
      if (this.kinds.has(kind.name)) throw new Error(`probe kind ${kind.name} is registered twice`);
      this.kinds.set(kind.name, kind);
    }
  }

  get(name: string): ProbeKind<unknown> | undefined {
    return this.kinds.get(name);
  }

  names(): string[] {
    return [...this.kinds.keys()].sort();
  }

  /** In the shape prober/case.ts takes (`KindLookup`). */
  readonly lookup = (name: string): ProbeKind<unknown> | undefined => this.get(name);

  /** Validates the kind-specific spec of a case; throws InvalidProbeSpecError for an unknown kind or a bad spec. */
  parseProbeCaseSpec(kindName: string, raw: unknown): unknown {
    const kind = this.kinds.get(kindName);
    if (kind) return kind.parseSpec(raw ?? {});
    const why = UNAVAILABLE_BECAUSE[kindName];
    if (why) throw new InvalidProbeSpecError(`kind ${kindName} is not available here: ${why}`);
    throw new InvalidProbeSpecError(`unknown kind ${JSON.stringify(kindName)}; known kinds: ${this.names().join(", ")}`);
  }
}

/** The built-in kinds, plus script and k8s-job when their options are given. */
export function createProbeKindRegistry(options: ProbeKindRegistryOptions = {}): ProbeKindRegistry {
  const kinds: ProbeKind<unknown>[] = [httpKind, tcpKind, dnsKind, grpcKind, tlsKind];
  if (options.script) kinds.push(createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, ...options.script }));
  if (options.k8sJob) kinds.push(createK8sJobKind(options.k8sJob));
  return new ProbeKindRegistry(kinds);
}
