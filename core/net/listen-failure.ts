/** Socket errors a listener meets at start, as an operator reads them. */
const LISTEN_FAILURES: readonly [code: string, reason: string][] = [
  ["EADDRINUSE", "address already in use"],
  ["EACCES", "permission denied (ports below 1024 need privileges)"],
  ["EADDRNOTAVAIL", "no such address on this machine"],
];

/**
 * The error a listener throws when it cannot bind. cli.ts reads the port from "host:port: address already in
 * use" to name the setting that holds it, so every listener words it this way.
 */
export function cannotListen(host: string, port: number, error: unknown): Error {
  return new Error(`cannot listen on ${host}:${port}: ${listenFailureReason(error)}`, { cause: error });
}

/**
 * Why a listener could not bind, in a few words. gRPC wraps the socket error as "No address added out of
 * total 1 resolved errors: [listen EADDRINUSE: ...]", which says less than the code inside it.
 */
export function listenFailureReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  for (const [failureCode, reason] of LISTEN_FAILURES) if (code === failureCode || text.includes(failureCode)) return reason;
  return text;
}
