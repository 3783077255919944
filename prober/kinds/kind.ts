import type { ProbeStatus } from "../../core/model/probe.ts";
import type { BoundedRegexMatcher } from "../../core/regex/bounded-match.ts";
import type { EgressPolicy } from "../egress/egress-policy.ts";
import type { ProbeFiles } from "./probe-files.ts";

/**
 * The contract every probe kind implements (http, tcp, dns, grpc, tls, script, k8s-job). A kind knows
 * how to validate its own part of a case definition and how to run it once against one target; the
 * scheduler, retries, timeouts, result storage and metrics are the runner's, not the kind's.
 */
export interface ProbeKind<Spec> {
  readonly name: string;
  /** Validates the kind-specific `spec` of a case; throws InvalidProbeSpecError naming the field. */
  parseSpec(raw: unknown): Spec;
  /** Runs once. Must settle soon after `context.signal` aborts (the runner's timeout). Never throws for probe failures. */
  run(spec: Spec, target: string, context: ProbeContext): Promise<ProbeOutcome>;
}

export interface ProbeContext {
  signal: AbortSignal;
  timeoutMs: number;
  /** Where the run may connect: every socket a kind opens goes through prober/egress/guarded-lookup.ts. */
  egress: EgressPolicy;
  /** The files a spec may name (caFile), confined to prober.filesDir. */
  files: ProbeFiles;
  /** Matches a spec's patterns against response bodies and replies without holding the event loop. */
  patterns: BoundedRegexMatcher;
}

export interface ProbeOutcome {
  status: ProbeStatus;
  /** Why it failed ("" on success), specific enough to act on: "expected status 200, got 503". */
  message: string;
  /** Phase timings in ms (dns, connect, tls, firstByte, processing, transfer, total...). */
  phases: Record<string, number>;
  /**
   * Kind-specific gauges exported as blackbox-exporter metrics, e.g. `http_status_code`,
   * `ssl_earliest_cert_expiry` (unix seconds), `http_redirects`, `dns_answer_rrs`.
   */
  metrics: Record<string, number>;
  /**
   * Blackbox's info gauges, whose value is in labels: `ssl_last_chain_info` -> { fingerprint_sha256, ... }
   * becomes `probe_ssl_last_chain_info{fingerprint_sha256="..."} 1` on `GET /probe`. Not stored.
   */
  info?: Record<string, Record<string, string>>;
}

/** A case definition that cannot be used; the message names the field and what was expected. */
export class InvalidProbeSpecError extends Error {
  override readonly name = "InvalidProbeSpecError";
}
