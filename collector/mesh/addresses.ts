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
