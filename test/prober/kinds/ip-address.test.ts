/**
 * blackbox_exporter's probe_ip_protocol and probe_ip_addr_hash (prober/utils.go ipHash: FNV-1a 32 over
 * Go's To4() bytes, else To16()). The expected hashes were computed outside the code under test
 * (Python: FNV-1a over ipaddress.ip_address(a).packed).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addressGauges } from "../../../prober/kinds/ip-address.ts";

describe("address gauges", () => {
  it("hashes IPv4 over 4 bytes, IPv6 over 16, an IPv4-mapped IPv6 address as its IPv4 address, and gives 0 for no address", () => {
    const rows = ["127.0.0.1", "::ffff:127.0.0.1", "::1", "2001:db8::1", "[::1]", "not-an-address", undefined].map((address) => [address, addressGauges(address)]);
    assert.deepEqual(rows, [
      ["127.0.0.1", { ip_protocol: 4, ip_addr_hash: 3668918509 }],
      ["::ffff:127.0.0.1", { ip_protocol: 4, ip_addr_hash: 3668918509 }],
      ["::1", { ip_protocol: 6, ip_addr_hash: 1751717746 }],
      ["2001:db8::1", { ip_protocol: 6, ip_addr_hash: 1851458804 }],
      ["[::1]", { ip_protocol: 6, ip_addr_hash: 1751717746 }],
      ["not-an-address", { ip_protocol: 0, ip_addr_hash: 0 }],
      [undefined, { ip_protocol: 0, ip_addr_hash: 0 }],
    ]);
  });
});
