import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import { EgressDeniedError, type EgressPolicy } from "./egress-policy.ts";

/** The `lookup` option of net.connect, tls.connect and http.request. */
export type LookupFunction = (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => void;

/**
 * Prepares a connection to `host:port` under the policy. A literal address is checked here, before any
 * socket exists (Node connects to literals without calling `lookup`). For a name, the returned `lookup`
 * resolves it, keeps only the addresses the policy allows and hands exactly those to the socket, so the
 * check and the connect see the same answer: a DNS server cannot answer the check with a public address
 * and the connect with 127.0.0.1. When none is allowed the connect fails with EgressDeniedError.
 */
export async function guardConnection(policy: EgressPolicy, host: string, port: number): Promise<LookupFunction> {
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) await policy.assertAllowed(literal, literal, port);
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, options.all ? [] : "");
        return;
      }
      allowedOf(policy, hostname, port, addresses).then(
        ({ allowed, denied }) => {
          const first = allowed[0];
          if (!first) callback(denied ?? new EgressDeniedError(hostname, "", port, "the name has no address"), options.all ? [] : "");
          else if (options.all) callback(null, allowed);
          else callback(null, first.address, first.family);
        },
        (checkError: unknown) => callback(checkError instanceof Error ? checkError : new Error(String(checkError)), options.all ? [] : ""),
      );
    });
  };
}

async function allowedOf(policy: EgressPolicy, host: string, port: number, addresses: readonly LookupAddress[]): Promise<{ allowed: LookupAddress[]; denied: EgressDeniedError | undefined }> {
  const allowed: LookupAddress[] = [];
  let denied: EgressDeniedError | undefined;
  for (const address of addresses) {
    const decision = await policy.check(host, address.address, port);
    if (decision.isAllowed) allowed.push(address);
    else denied ??= new EgressDeniedError(host, address.address, port, decision.rule);
  }
  return { allowed, denied };
}

/** Resolves `host` (or takes the literal) to one address the policy allows, for clients that take no `lookup` (gRPC). */
export async function resolveAllowed(policy: EgressPolicy, host: string, port: number): Promise<LookupAddress> {
  const lookup = await guardConnection(policy, host, port);
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const family = isIP(literal);
  if (family !== 0) return { address: literal, family };
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, (error, addresses) => {
      const first = Array.isArray(addresses) ? addresses[0] : undefined;
      if (error || !first) reject(error ?? new Error(`${host} has no address`));
      else resolve(first);
    });
  });
}

export function isEgressDenied(error: unknown): error is EgressDeniedError {
  return error instanceof EgressDeniedError;
}
