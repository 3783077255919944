import type { SecureVersion } from "node:tls";
import { z } from "zod";
import { InvalidProbeSpecError } from "./kind.ts";
import type { ProbeFiles } from "./probe-files.ts";

/**
 * The client side of TLS a spec may set beyond tlsVerify and serverName, as blackbox_exporter's
 * `tls_config` does (prometheus/common config.TLSConfig): the CA to trust, a client certificate and the
 * protocol versions allowed. Each PEM is given inline (`caPem`, blackbox's `ca`) or as a file (`caFile`),
 * a path inside prober.filesDir (prober/kinds/probe-files.ts) read at every run so a rotated certificate
 * needs no reload.
 */
export interface TlsClientSpec {
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
  caPem: string | undefined;
  certPem: string | undefined;
  keyPem: string | undefined;
  minVersion: SecureVersion | undefined;
  maxVersion: SecureVersion | undefined;
}

/** What node:tls takes for the spec, files read. */
export interface TlsClientOptions {
  ca?: string;
  cert?: string;
  key?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
}

const VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
const version = z.enum(VERSIONS, { error: `expected one of ${VERSIONS.join(", ")}` }).optional();
const path = z.string({ error: "expected a file path" }).min(1).optional();
const pem = (marker: string) => z.string({ error: "expected PEM text" }).includes(marker, { error: `expected PEM text with ${marker}` }).optional();
const certificatePem = pem("-----BEGIN CERTIFICATE-----");

/** The spec fields, for a kind's schema: `z.strictObject({ ...TLS_CLIENT_FIELDS, ... })`. */
export const TLS_CLIENT_FIELDS = { caFile: path, certFile: path, keyFile: path, caPem: certificatePem, certPem: certificatePem, keyPem: pem("PRIVATE KEY-----"), minTlsVersion: version, maxTlsVersion: version };

type TlsClientFields = { [Field in "caFile" | "certFile" | "keyFile" | "caPem" | "certPem" | "keyPem"]?: string | undefined } & { minTlsVersion?: SecureVersion | undefined; maxTlsVersion?: SecureVersion | undefined };

export function parseTlsClient(fields: TlsClientFields): TlsClientSpec {
  // As prometheus/common's TLSConfig.Validate: one source per PEM, and a certificate only with its key.
  for (const kind of ["ca", "cert", "key"] as const) {
    if (fields[`${kind}File`] !== undefined && fields[`${kind}Pem`] !== undefined) throw new InvalidProbeSpecError(`${kind}Pem: give ${kind}Pem or ${kind}File, not both`);
  }
  const hasCert = fields.certFile !== undefined || fields.certPem !== undefined;
  const hasKey = fields.keyFile !== undefined || fields.keyPem !== undefined;
  if (hasCert !== hasKey) throw new InvalidProbeSpecError(`${hasCert ? "keyFile" : "certFile"}: a client certificate needs both a certificate (certFile or certPem) and its key (keyFile or keyPem)`);
  if (fields.minTlsVersion !== undefined && fields.maxTlsVersion !== undefined && VERSIONS.indexOf(fields.minTlsVersion) > VERSIONS.indexOf(fields.maxTlsVersion)) {
    throw new InvalidProbeSpecError(`minTlsVersion: ${fields.minTlsVersion} is above maxTlsVersion ${fields.maxTlsVersion}`);
  }
  return { caFile: fields.caFile, certFile: fields.certFile, keyFile: fields.keyFile, caPem: fields.caPem, certPem: fields.certPem, keyPem: fields.keyPem, minVersion: fields.minTlsVersion, maxVersion: fields.maxTlsVersion };
}

/** Reads the named files; throws ProbeFileError (the run's status is then `error`: the case's setup, not the target). */
export async function loadTlsClient(spec: TlsClientSpec, files: ProbeFiles): Promise<TlsClientOptions> {
  const options: TlsClientOptions = {};
  const ca = spec.caPem ?? (spec.caFile === undefined ? undefined : await files.readText("caFile", spec.caFile));
  const cert = spec.certPem ?? (spec.certFile === undefined ? undefined : await files.readText("certFile", spec.certFile));
  const key = spec.keyPem ?? (spec.keyFile === undefined ? undefined : await files.readText("keyFile", spec.keyFile));
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (spec.minVersion !== undefined) options.minVersion = spec.minVersion;
  if (spec.maxVersion !== undefined) options.maxVersion = spec.maxVersion;
  return options;
}
