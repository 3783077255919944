import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AuditLog, type AuditRecord } from "../../../analyzer/gate/audit-log.ts";
import { parseGate } from "../../../analyzer/gate/gate-definition.ts";
import { loadGateFiles } from "../../../analyzer/gate/gate-files.ts";
import { TtlCache } from "../../../analyzer/gate/ttl-cache.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "meshsight-gate-parts-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe("gate definitions and files", () => {
  void it("fills defaults and refuses fields that cannot work, naming them", () => {
    const gate = parseGate({ name: "reviews-canary", service: "reviews.default", version: "v2" }, "test");
    assert.equal(gate.window, "5m");
    assert.equal(gate.minCalls, 20);
    assert.equal(gate.versionAttribute, "version");
    assert.throws(() => parseGate({ name: "g", service: "s", window: "30" }, "gates.yaml:3"), /gates\.yaml:3: gate "g" window: expected a duration/);
    assert.throws(() => parseGate({ name: "g", service: "s", slo: { maxErrorRateIncrease: 1 } }, "api"), /slo\.maxErrorRateIncrease: .*needs a version/);
    assert.throws(() => parseGate({ name: "g", service: "s", slo: { minSla: 101 } }, "api"), /slo\.minSla/);
    assert.throws(() => parseGate({ name: "g", service: "s", treshold: 1 }, "api"), /treshold/);
  });

  void it("loads gates: lists, single documents, directories; errors carry file and line", async () => {
    const gatesDir = join(dir, "gates");
    await mkdir(gatesDir);
    await writeFile(join(gatesDir, "a.yaml"), "gates:\n  - name: one\n    service: a.default\n  - name: two\n    service: b.default\n    slo: { minSla: 99 }\n");
    await writeFile(join(gatesDir, "b.yml"), "name: three\nservice: c.default\n---\nname: four\nservice: d.default\n");
    const loaded = await loadGateFiles([gatesDir], 10);
    assert.deepEqual(loaded.map((gate) => gate.name), ["one", "two", "three", "four"]);
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "gates:\n  - name: ok\n    service: a.default\n  - name: bad\n    service: b.default\n    window: soon\n");
    await assert.rejects(loadGateFiles([broken], 10), new RegExp(`${broken}:4: gate "bad" window`));
    await assert.rejects(loadGateFiles([gatesDir, join(gatesDir, "a.yaml")], 10), /gate "one" is already defined at .*a\.yaml:2/);
    await assert.rejects(loadGateFiles([gatesDir], 3), /more than 3 gates/);
  });
});

const record = (gate: string, atMs: number): AuditRecord => ({ atMs, who: "ci", action: "check", gate, via: "api", evidence: { verdict: "pass", padding: "x".repeat(200) } });

void describe("audit log", () => {
  void it("appends JSON lines, rotates at the size bound and reloads its tail after a restart", async () => {
    const file = join(dir, "audit", "gate-audit.jsonl");
    const options = { file, maxBytes: 2_000, maxPending: 100, recentLimit: 5 };
    const audit = new AuditLog(options);
    await audit.start();
    for (let index = 0; index < 20; index++) await audit.record(record(`g${index % 2}`, index));
    await audit.stop();
    assert.ok((await stat(file)).size <= 2_000);
    assert.ok((await stat(`${file}.1`)).size <= 2_000, "one rotated file kept");
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as AuditRecord);
    assert.equal(lines.at(-1)?.atMs, 19);
    assert.deepEqual(audit.recent(3).map((entry) => entry.atMs), [19, 18, 17]);
    assert.deepEqual(audit.recent(10, "g0").map((entry) => entry.atMs), [18, 16]);
    const restarted = new AuditLog(options);
    await restarted.start();
    assert.deepEqual(restarted.recent(2).map((entry) => entry.atMs), [19, 18]);
  });

  void it("refuses records beyond the pending bound instead of growing", async () => {
    const audit = new AuditLog({ file: join(dir, "bounded.jsonl"), maxBytes: 1_000_000, maxPending: 3, recentLimit: 10 });
    await audit.start();
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_unused, index) => audit.record(record("g", index))));
    assert.ok(outcomes.some((outcome) => outcome.status === "rejected"));
    assert.ok(outcomes.filter((outcome) => outcome.status === "fulfilled").length >= 3);
  });

  void it("fails the record when the disk refuses it, so the decision is not answered", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "");
    const audit = new AuditLog({ file: join(blocker, "audit.jsonl"), maxBytes: 1_000, maxPending: 3, recentLimit: 10 });
    await assert.rejects(audit.start());
    await assert.rejects(audit.record(record("g", 1)), /cannot append/);
    assert.deepEqual(audit.recent(10), []);
  });
});

void describe("TTL cache of gate evidence", () => {
  void it("shares in-flight loads, reuses values for the TTL, forgets failures and stays bounded", async () => {
    let clock = 0;
    const cache = new TtlCache<number>({ ttlMs: 1_000, maxEntries: 2, now: () => clock });
    let loads = 0;
    const load = async () => ++loads;
    const [a, b] = await Promise.all([cache.get("k", load), cache.get("k", load)]);
    assert.equal(loads, 1);
    assert.equal(a.isCached, false);
    assert.equal(b.isCached, true);
    clock = 999;
    assert.equal((await cache.get("k", load)).value, 1);
    clock = 1_000;
    assert.equal((await cache.get("k", load)).value, 2, "expired after the TTL");
    await assert.rejects(cache.get("bad", () => Promise.reject(new Error("probe infrastructure down"))));
    assert.equal((await cache.get("bad", load)).value, 3, "a failure is not cached");
    await cache.get("third", load);
    assert.equal((await cache.get("k", load)).isCached, false, "the oldest key went when a third came");
  });
});
