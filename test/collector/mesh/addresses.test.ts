import assert from "node:assert/strict";
import { test } from "node:test";
import { hasEphemeralPort, ipOfAddress } from "../../../collector/mesh/addresses.ts";

test("an address with a port from the ephemeral range names a connection, not a workload", () => {
  for (const address of ["10.44.1.23:32768", "10.44.1.23:60999", "[fd00::1]:50000", "127.0.0.6:65535"]) assert.equal(hasEphemeralPort(address), true, address);
  for (const address of ["10.44.1.23:9080", "10.44.1.23:32767", "[fd00::1]:443", "10.44.1.23", "fd00::1", "", "-", "host:http", "10.0.0.1:", "10.0.0.1:123456", "/var/run/envoy.sock"]) {
    assert.equal(hasEphemeralPort(address), false, address);
  }
});

test("the IP of an address, with or without a port", () => {
  assert.equal(ipOfAddress("10.44.1.23:37652"), "10.44.1.23");
  assert.equal(ipOfAddress("[fe80::1]:8080"), "fe80::1");
  assert.equal(ipOfAddress("fe80::1"), "fe80::1");
  assert.equal(ipOfAddress("10.44.1.23"), "10.44.1.23");
  assert.equal(ipOfAddress("-"), "");
  assert.equal(ipOfAddress(""), "");
});
