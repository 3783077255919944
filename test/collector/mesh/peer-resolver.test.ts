import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { NullPeerResolver, StaticPeerResolver } from "../../../collector/mesh/peer-resolver.ts";

const mappingYaml = `
peers:
  - ip: 10.0.0.5
    service: billing-db.prod
    instance: billing-db-1
  - cidr: 10.1.0.0/16
    service: legacy-vms.prod
  - cidr: 10.1.2.0/24
    service: legacy-payments.prod
  - cidr: fd00::/8
    service: v6-fleet.prod
`;

void test("a static mapping file resolves exact IPs, CIDRs (longest prefix first) and IPv6", async () => {
  const dir = await mkdtemp(join(tmpdir(), "meshsight-peers-"));
  try {
    const file = join(dir, "peers.yaml");
    await writeFile(file, mappingYaml);
    const resolver = await StaticPeerResolver.fromFile(file);
    assert.equal(resolver.kind, "static");
    assert.deepEqual(resolver.byIp("10.0.0.5"), { service: "billing-db.prod", instance: "billing-db-1" });
    assert.deepEqual(resolver.byIp("10.1.9.9"), { service: "legacy-vms.prod", instance: "10.1.9.9" });
    assert.deepEqual(resolver.byIp("10.1.2.3"), { service: "legacy-payments.prod", instance: "10.1.2.3" });
    assert.deepEqual(resolver.byIp("::ffff:10.1.2.3"), { service: "legacy-payments.prod", instance: "::ffff:10.1.2.3" });
    assert.equal(resolver.byIp("fd12:3456::1")?.service, "v6-fleet.prod");
    assert.equal(resolver.byIp("10.2.0.1"), null);
    assert.equal(resolver.byIp("fe80::1"), null);
    assert.equal(resolver.byIp("not-an-ip"), null);
    assert.equal(resolver.byIp("10.1.9.9"), resolver.byIp("10.1.9.9"), "answers are memoized, not rebuilt");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test("a bad mapping file fails with an error naming the file and the problem", () => {
  assert.throws(() => StaticPeerResolver.fromYaml("peers: [ {ip: 10.0.0.1}", "broken.yaml"), /broken\.yaml: not valid YAML/);
  assert.throws(() => StaticPeerResolver.fromYaml("peers:\n  - ip: 10.0.0.1\n", "noservice.yaml"), /noservice\.yaml: .*service/s);
  assert.throws(
    () => StaticPeerResolver.fromYaml("peers:\n  - ip: 10.0.0.1\n    cidr: 10.0.0.0/8\n    service: x\n", "both.yaml"),
    /both\.yaml: .*exactly one of ip or cidr/s,
  );
  assert.throws(() => StaticPeerResolver.fromYaml("peers:\n  - cidr: 10.0.0.0/40\n    service: x\n", "prefix.yaml"), /"10\.0\.0\.0\/40" is not an IP or CIDR/);
  assert.throws(() => StaticPeerResolver.fromYaml("peers:\n  - ip: 10.0.0.1\n    service: x\n    colour: red\n", "extra.yaml"), /extra\.yaml: .*colour/s);
});

void test("an empty mapping file and the null resolver resolve nothing", () => {
  assert.equal(StaticPeerResolver.fromYaml("", "empty.yaml").byIp("10.0.0.1"), null);
  assert.equal(new NullPeerResolver().byIp(), null);
});
