import { readFile } from "node:fs/promises";
import { parseYaml } from "../../core/config/lazy-yaml.ts";
import { z } from "zod";
import type { ServiceRef } from "../../core/model/dimensions.ts";
import { BoundedMap } from "./bounded-map.ts";
import { cidrContains, parseCidr, parseIp, type CidrRange } from "./ip-match.ts";

/**
 * Names the workload behind an IP seen in an access log (a downstream caller, an upstream host).
 * Implementations answer from memory: `byIp` sits on the per-entry hot path and must not do I/O.
 */
export interface PeerResolver {
  /** The peer's service and instance, or null when the IP is unknown (or a node / host-network IP). */
  byIp(ip: string): ServiceRef | null;
  /**
   * The one service whose workloads run as `<namespace>/<service account>` (an mTLS identity), null when
   * none or several do. Only sources that know pods' service accounts (Kubernetes) implement it.
   */
  byServiceAccount?(serviceAccountKey: string): ServiceRef | null;
  /** A pod by namespace and name, for proxies that report only their pod name (Istio 1.1-era node ids). */
  byPod?(namespace: string, pod: string): ServiceRef | null;
}

/** A resolver that can be started and stopped (the Kubernetes one watches the API server). */
export interface ManagedPeerResolver extends PeerResolver {
  /** Which source answers, for the startup log. */
  readonly kind: "kubernetes" | "static" | "none";
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Used when neither Kubernetes nor a static mapping is available: peers fall back to cluster host names. */
export class NullPeerResolver implements ManagedPeerResolver {
  readonly kind = "none";
  byIp(): ServiceRef | null {
    return null;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** One line of a static mapping: an IP or CIDR and the workload it stands for. */
export interface StaticPeerMapping {
  /** `10.0.0.5`, `10.1.0.0/16`, `fd00::/8`. */
  match: string;
  service: string;
  /** Defaults to the IP that matched, so each address of a range stays a distinct instance. */
  instance?: string;
}

const MAX_MAPPINGS = 100_000;

const staticMappingFileSchema = z.strictObject({
  peers: z
    .array(
      z
        .strictObject({
          ip: z.string().min(1).optional(),
          cidr: z.string().min(1).optional(),
          service: z.string().min(1).max(253),
          instance: z.string().min(1).max(253).optional(),
        })
        .refine((peer) => (peer.ip === undefined) !== (peer.cidr === undefined), { message: "give exactly one of ip or cidr" }),
    )
    .max(MAX_MAPPINGS),
});

interface CompiledMapping {
  range: CidrRange;
  service: string;
  instance: string;
}

/**
 * Peers outside Kubernetes (VMs, databases, partner networks) named by a file:
 *
 * ```yaml
 * peers:
 *   - ip: 10.0.0.5
 *     service: billing-db.prod
 *     instance: billing-db-1
 *   - cidr: 10.1.0.0/16
 *     service: legacy-vms.prod
 * ```
 *
 * The most specific range wins (longest prefix), as in routing tables. Answers are memoized per IP in a
 * bounded map, so lookups after the first cost one map read and return the same object.
 */
export class StaticPeerResolver implements ManagedPeerResolver {
  readonly kind = "static";
  private readonly mappings: CompiledMapping[];
  private readonly answers: BoundedMap<string, ServiceRef | null>;

  constructor(mappings: readonly StaticPeerMapping[], options: { memoEntries?: number } = {}) {
    this.mappings = mappings.map((mapping, index) => {
      const range = parseCidr(mapping.match);
      if (!range) throw new Error(`static peer mapping #${index + 1}: "${mapping.match}" is not an IP or CIDR`);
      return { range, service: mapping.service, instance: mapping.instance ?? "" };
    });
    this.mappings.sort((a, b) => b.range.prefixLength - a.range.prefixLength);
    this.answers = new BoundedMap(options.memoEntries ?? 65_536);
  }

  /** Parses and validates a mapping file's text; `sourceName` names the file in errors. */
  static fromYaml(text: string, sourceName: string): StaticPeerResolver {
    let document: unknown;
    try {
      document = parseYaml(text);
    } catch (error) {
      throw new Error(`static peer mapping ${sourceName}: not valid YAML: ${(error as Error).message}`, { cause: error });
    }
    const parsed = staticMappingFileSchema.safeParse(document ?? { peers: [] });
    if (!parsed.success) throw new Error(`static peer mapping ${sourceName}: ${z.prettifyError(parsed.error)}`);
    return new StaticPeerResolver(
      parsed.data.peers.map((peer) => ({ match: peer.ip ?? peer.cidr ?? "", service: peer.service, instance: peer.instance })),
    );
  }

  static async fromFile(path: string): Promise<StaticPeerResolver> {
    return StaticPeerResolver.fromYaml(await readFile(path, "utf8"), path);
  }

  byIp(ip: string): ServiceRef | null {
    const known = this.answers.get(ip);
    if (known !== undefined) return known;
    const answer = this.lookUp(ip);
    this.answers.set(ip, answer);
    return answer;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  private lookUp(ip: string): ServiceRef | null {
    const numeric = parseIp(ip);
    if (!numeric) return null;
    for (const mapping of this.mappings) {
      if (cidrContains(mapping.range, numeric)) return Object.freeze({ service: mapping.service, instance: mapping.instance || ip });
    }
    return null;
  }
}
