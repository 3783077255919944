import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { BoundedRegexMatcher } from "../../../../core/regex/bounded-match.ts";
import { EgressPolicy } from "../../../../prober/egress/egress-policy.ts";
import type { ProbeContext } from "../../../../prober/kinds/kind.ts";
import { ProbeFiles } from "../../../../prober/kinds/probe-files.ts";
import type { TestCertificate } from "./certificates.ts";

/** Starts a real HTTP(S) server on a free loopback port; close() also drops hanging connections. */
export async function listen(handler: RequestListener, certificate?: TestCertificate): Promise<{ origin: string; port: number; close: () => Promise<void> }> {
  const server: Server = certificate ? createHttpsServer({ key: certificate.keyPem, cert: certificate.certPem }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${certificate ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Test servers listen on loopback only, which the default egress policy denies: tests allow it
 * explicitly, as an operator would for a sidecar.
 */
export const LOOPBACK_ALLOWED = ["127.0.0.0/8", "::1"];

export function loopbackEgress(): EgressPolicy {
  return new EgressPolicy({ allow: LOOPBACK_ALLOWED, deny: [], defaultAction: "allow" });
}

const patterns = new BoundedRegexMatcher();

/** A probe context whose signal aborts after `timeoutMs`, as the runner's does; loopback allowed, no probe files. */
export function contextWithTimeout(timeoutMs: number, overrides: Partial<Pick<ProbeContext, "egress" | "files" | "patterns">> = {}): ProbeContext {
  return { signal: AbortSignal.timeout(timeoutMs), timeoutMs, egress: loopbackEgress(), files: new ProbeFiles(undefined), patterns, ...overrides };
}
