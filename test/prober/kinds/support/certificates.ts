import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  keyPem: string;
  certPem: string;
}

export interface TestCertificates {
  /** Self-signed for localhost and 127.0.0.1, valid for `days` days. */
  valid: TestCertificate;
  /** Same key, validity ended a day before it began: Node reports CERT_HAS_EXPIRED. */
  expired: TestCertificate;
  /** Valid, but only for the name other.example (hostname mismatch against 127.0.0.1). */
  otherName: TestCertificate;
  validDays: number;
}

/** Generates real certificates with the openssl CLI in a temp dir (removed afterwards). */
export function generateCertificates(validDays = 30): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-certs-"));
  try {
    const openssl = opensslIn(dir);
    const selfSigned = (name: string, subject: string, san: string) => selfSignedIn(dir, name, subject, san, validDays);
    const valid = selfSigned("valid", "/CN=localhost", "DNS:localhost,IP:127.0.0.1");
    openssl("x509", "-in", "valid.crt", "-signkey", "valid.key", "-days", "-1", "-out", "expired.crt");
    const expired = { keyPem: valid.keyPem, certPem: readFileSync(join(dir, "expired.crt"), "utf8") };
    const otherName = selfSigned("other", "/CN=other.example", "DNS:other.example");
    return { valid, expired, otherName, validDays };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A self-signed certificate for localhost and 127.0.0.1 with the given subject, in openssl's `-subj`
 * form with multi-valued RDNs (`/OU=Dev+L=Berlin`; a backslash escapes the next character).
 */
export function generateCertificateWithSubject(subject: string, validDays = 30): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-certs-"));
  try {
    return selfSignedIn(dir, "subject", subject, "DNS:localhost,IP:127.0.0.1", validDays, ["-multivalue-rdn"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function opensslIn(dir: string): (...args: string[]) => void {
  return (...args) => void execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function selfSignedIn(dir: string, name: string, subject: string, san: string, validDays: number, extra: string[] = []): TestCertificate {
  opensslIn(dir)("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", String(validDays), "-subj", subject, "-addext", `subjectAltName=${san}`, ...extra);
  return { keyPem: readFileSync(join(dir, `${name}.key`), "utf8"), certPem: readFileSync(join(dir, `${name}.crt`), "utf8") };
}
