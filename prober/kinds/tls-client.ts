import type { SecureVersion } from "node:tls";
import { z } from "zod";
import { InvalidProbeSpecError } from "./kind.ts";
import type { ProbeFiles } from "./probe-files.ts";

/**
 * The client side of TLS a spec may set beyond tlsVerify and serverName, as blackbox_exporter's
 * `tls_config` does (prometheus/common config.TLSConfig): the CA to trust, a client certificate and the
 * protocol versions allowed. Files are paths inside prober.filesDir (prober/kinds/probe-files.ts), read at
 * every run so a rotated certificate needs no reload.
 */
export interface TlsClientSpec {
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
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

/** The spec fields, for a kind's schema: `z.strictObject({ ...TLS_CLIENT_FIELDS, ... })`. */
export const TLS_CLIENT_FIELDS = { caFile: path, certFile: path, keyFile: path, minTlsVersion: version, maxTlsVersion: version };

type TlsClientFields = { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined; minTlsVersion?: SecureVersion | undefined; maxTlsVersion?: SecureVersion | undefined };

export function parseTlsClient(fields: TlsClientFields): TlsClientSpec {
  if ((fields.certFile === undefined) !== (fields.keyFile === undefined)) throw new InvalidProbeSpecError(`${fields.certFile === undefined ? "certFile" : "keyFile"}: a client certificate needs both certFile and keyFile`);
  if (fields.minTlsVersion !== undefined && fields.maxTlsVersion !== undefined && VERSIONS.indexOf(fields.minTlsVersion) > VERSIONS.indexOf(fields.maxTlsVersion)) {
    throw new InvalidProbeSpecError(`minTlsVersion: ${fields.minTlsVersion} is above maxTlsVersion ${fields.maxTlsVersion}`);
  }
  return { caFile: fields.caFile, certFile: fields.certFile, keyFile: fields.keyFile, minVersion: fields.minTlsVersion, maxVersion: fields.maxTlsVersion };
}

/** Reads the named files; throws ProbeFileError (the run's status is then `error`: the case's setup, not the target). */
export async function loadTlsClient(spec: TlsClientSpec, files: ProbeFiles): Promise<TlsClientOptions> {
  const options: TlsClientOptions = {};
  if (spec.caFile !== undefined) options.ca = await files.readText("caFile", spec.caFile);
  if (spec.certFile !== undefined) options.cert = await files.readText("certFile", spec.certFile);
  if (spec.keyFile !== undefined) options.key = await files.readText("keyFile", spec.keyFile);
  if (spec.minVersion !== undefined) options.minVersion = spec.minVersion;
  if (spec.maxVersion !== undefined) options.maxVersion = spec.maxVersion;
  return options;
}
