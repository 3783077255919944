/**
 * Envoy addresses arrive as `ip:port` strings (`10.44.1.23:37652`, `[fe80::1]:8080`); peers are looked
 * up by the bare IP.
 */

/** The IP part of `ip:port`, `[v6]:port` or a bare IP; "" for an empty address. */
export function ipOfAddress(address: string): string {
  if (address === "" || address === "-") return "";
  if (address.charCodeAt(0) === 91 /* [ */) {
    const close = address.indexOf("]");
    return close > 1 ? address.slice(1, close) : "";
  }
  const colon = address.indexOf(":");
  if (colon < 0) return address;
  // More than one colon and no brackets: a bare IPv6 address without a port.
  if (address.indexOf(":", colon + 1) >= 0) return address;
  return address.slice(0, colon);
}

/** Linux's default ephemeral range starts here; servers listen below it. */
const FIRST_EPHEMERAL_PORT = 32_768;

/**
 * Whether `address` ends in a port from the ephemeral range (`10.44.1.23:37652`): such an address names
 * one connection of a client rather than a listening workload, so it is not worth remembering.
 */
export function hasEphemeralPort(address: string): boolean {
  const colon = address.lastIndexOf(":");
  const digits = address.length - colon - 1;
  if (colon < 0 || digits < 1 || digits > 5) return false;
  let port = 0;
  for (let index = colon + 1; index < address.length; index++) {
    const code = address.charCodeAt(index);
    if (code < 48 || code > 57) return false;
    port = port * 10 + (code - 48);
  }
  return port >= FIRST_EPHEMERAL_PORT;
}
