import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

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
}

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
  return {
    earliestExpirySeconds: Number.isFinite(earliest) ? earliest : leafExpiry,
    leafExpirySeconds: leafExpiry,
    version: tlsVersionNumber(socket.getProtocol()),
    authorized: socket.authorized,
    authorizationError: authorizationError === null || authorizationError === undefined ? "" : String(authorizationError),
  };
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
