import { X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";
import { goNamesOf } from "./x509-name.ts";

/** What a finished TLS handshake tells a probe, read while the socket is still open. */
export interface TlsFacts {
  /** Unix seconds when the first certificate of the presented chain expires (blackbox's probe_ssl_earliest_cert_expiry). */
  earliestExpirySeconds: number;
  /** Unix seconds when the leaf certificate expires. */
  leafExpirySeconds: number;
  /** 1.2, 1.3 ... (0 when unknown), as blackbox exports probe_tls_version_info. */
  version: number;
  authorized: boolean;
  authorizationError: string;
  /**
   * Unix seconds of the earliest expiry along the verified chain (blackbox's probe_ssl_last_chain_expiry_timestamp_seconds);
   * without a verified chain Go's zero time, -62135596800, as blackbox reports then (prober/tls.go getLastChainExpiry).
   */
  lastChainExpirySeconds: number;
  /** The IANA name of the cipher suite ("TLS_AES_128_GCM_SHA256"), as Go's tls.CipherSuiteName gives it. */
  cipher: string;
  /** The leaf certificate as blackbox's probe_ssl_last_chain_info labels it (prober/tls.go). */
  leaf: LeafLabels;
}

export interface LeafLabels {
  fingerprint_sha256: string;
  subject: string;
  issuer: string;
  subjectalternative: string;
  serialnumber: string;
}

/** What Go's time.Time{}.Unix() is: blackbox's value for a chain-expiry it could not determine. */
const GO_ZERO_TIME_SECONDS = -62_135_596_800;

const MAX_CHAIN_LENGTH = 10;

export function readTlsFacts(socket: TLSSocket): TlsFacts {
  const leaf = socket.getPeerCertificate(true);
  let earliest = Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  // A self-signed certificate's issuerCertificate is itself; the fingerprint set stops the walk there.
  let certificate: DetailedPeerCertificate | undefined = leaf;
  for (let depth = 0; certificate && depth < MAX_CHAIN_LENGTH && !seen.has(certificate.fingerprint256); depth += 1) {
    seen.add(certificate.fingerprint256);
    earliest = Math.min(earliest, expirySeconds(certificate.valid_to));
    certificate = certificate.issuerCertificate;
  }
  const leafExpiry = expirySeconds(leaf.valid_to);
  const authorizationError = socket.authorizationError;
  const earliestExpiry = Number.isFinite(earliest) ? earliest : leafExpiry;
  return {
    earliestExpirySeconds: earliestExpiry,
    leafExpirySeconds: leafExpiry,
    version: tlsVersionNumber(socket.getProtocol()),
    authorized: socket.authorized,
    authorizationError: authorizationError === null || authorizationError === undefined ? "" : String(authorizationError),
    // The presented chain, when it verified, is the verified chain up to the trusted certificate.
    lastChainExpirySeconds: socket.authorized ? earliestExpiry : GO_ZERO_TIME_SECONDS,
    cipher: socket.getCipher().standardName,
    leaf: leafLabels(leaf),
  };
}

/** Go's forms: sha256 of the DER in hex, names as pkix.Name.String() writes them, DNS SANs joined with ",", the serial's bytes in hex. */
function leafLabels(leaf: DetailedPeerCertificate): LeafLabels {
  if (!leaf.raw) return { fingerprint_sha256: "", subject: "", issuer: "", subjectalternative: "", serialnumber: "" };
  const certificate = new X509Certificate(leaf.raw);
  const names = goNamesOf(leaf.raw);
  const dnsNames = (certificate.subjectAltName ?? "").split(", ").filter((entry) => entry.startsWith("DNS:")).map((entry) => entry.slice(4));
  return {
    fingerprint_sha256: certificate.fingerprint256.replaceAll(":", "").toLowerCase(),
    subject: names.subject,
    issuer: names.issuer,
    subjectalternative: dnsNames.join(","),
    serialnumber: certificate.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ""),
  };
}

/** Which of blackbox's TLS gauges a prober emits: http all of them, tcp no cipher, grpc neither cipher nor chain expiry. */
export interface TlsGaugeSet {
  hasLastChainExpiry: boolean;
  hasCipher: boolean;
}

/** The TLS gauges of an outcome: numbers in `metrics`, the label-valued ones in `info` (ProbeOutcome). */
export function tlsGauges(facts: TlsFacts, set: TlsGaugeSet): { metrics: Record<string, number>; info: Record<string, Record<string, string>> } {
  const metrics: Record<string, number> = { ssl_earliest_cert_expiry: facts.earliestExpirySeconds, tls_version_info: facts.version };
  const info: Record<string, Record<string, string>> = { ssl_last_chain_info: { ...facts.leaf } };
  if (set.hasLastChainExpiry) metrics.ssl_last_chain_expiry_timestamp_seconds = facts.lastChainExpirySeconds;
  if (set.hasCipher) info.tls_cipher_info = { cipher: facts.cipher };
  return { metrics, info };
}

function expirySeconds(validTo: string | undefined): number {
  const ms = validTo ? Date.parse(validTo) : Number.NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

/** "TLSv1.3" -> 1.3; anything else 0. */
export function tlsVersionNumber(protocol: string | null): number {
  const match = /^TLSv(\d+(?:\.\d+)?)$/.exec(protocol ?? "");
  return match?.[1] ? Number(match[1]) : 0;
}

/** Turns Node's certificate error codes into advice: what is wrong and which spec field changes it. */
export function describeCertificateError(code: string, host: string): string {
  switch (code) {
    case "CERT_HAS_EXPIRED":
      return `the certificate of ${host} has expired (CERT_HAS_EXPIRED)`;
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return `the certificate of ${host} is self-signed and not trusted (${code}); give its CA in spec.caFile/caPem or set tlsVerify: false`;
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return `the certificate chain of ${host} does not lead to a trusted CA (${code}); the server may be missing an intermediate`;
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `the certificate of ${host} is not valid for that name (ERR_TLS_CERT_ALTNAME_INVALID)`;
    default:
      return `the certificate of ${host} was rejected (${code})`;
  }
}
