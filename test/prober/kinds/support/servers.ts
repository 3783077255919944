import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
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

/** A probe context whose signal aborts after `timeoutMs`, as the runner's does. */
export function contextWithTimeout(timeoutMs: number): { signal: AbortSignal; timeoutMs: number } {
  return { signal: AbortSignal.timeout(timeoutMs), timeoutMs };
}
