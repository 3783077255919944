/**
 * One suite for every StateStore adapter (like test/conformance/storage and queue): each adapter's test file
 * says how to open a fresh namespace, and the same cases run on both.
 *
 * `open(limits, clock)` returns an empty namespace with those limits, reading time from `clock`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidStateKeyError, StateFullError, StateValueTooLargeError, type StateLimits, type StateStore } from "../../../core/state/port.ts";

export type OpenState = (limits: StateLimits, clock: () => number) => Promise<{ store: StateStore; cleanup(): Promise<void> }>;

const LIMITS: StateLimits = { maxKeys: 4, maxValueBytes: 1_024 };

export function runStateConformance(name: string, open: OpenState): void {
  const withStore = async (body: (store: StateStore, clock: { nowMs: number }) => Promise<void>, limits = LIMITS): Promise<void> => {
    const clock = { nowMs: 1_700_000_000_000 };
    const opened = await open(limits, () => clock.nowMs);
    try {
      await opened.store.start();
      await body(opened.store, clock);
      await opened.store.stop();
    } finally {
      await opened.cleanup();
    }
  };

  void describe(`StateStore conformance: ${name}`, () => {
    void it("reads back what was put, as JSON, with a version that grows with every write", () =>
      withStore(async (store) => {
        assert.equal(await store.get("gate/reviews"), undefined);
        const first = await store.put("gate/reviews", { service: "reviews.default", window: "5m", at: new Date(0) });
        assert.deepEqual(await store.get("gate/reviews"), { value: { service: "reviews.default", window: "5m", at: "1970-01-01T00:00:00.000Z" }, version: first });
        const second = await store.put("gate/reviews", [1, "two", null]);
        assert.ok(second > first);
        assert.deepEqual(await store.get("gate/reviews"), { value: [1, "two", null], version: second });
      }));

    void it("changes its revision with every write and delete, and never reuses a version", () =>
      withStore(async (store) => {
        const before = await store.revision();
        const version = await store.put("a", 1);
        assert.equal(await store.revision(), version);
        assert.ok(version > before);
        assert.equal(await store.delete("a"), true);
        const afterDelete = await store.revision();
        assert.ok(afterDelete > version);
        assert.equal(await store.delete("a"), false, "deleting what is gone is no change");
        assert.equal(await store.revision(), afterDelete);
        assert.ok((await store.put("a", 1)) > afterDelete, "a key created again gets a new version");
      }));

    void it("compare-and-set writes only over the version it was given, and says what is there otherwise", () =>
      withStore(async (store) => {
        const created = await store.compareAndSet("override/reviews", 0, { action: "open" });
        assert.equal(created.isSet, true);
        const version = created.isSet ? created.version : 0;
        assert.deepEqual(await store.compareAndSet("override/reviews", 0, { action: "close" }), { isSet: false, current: { value: { action: "open" }, version } });
        const stale = await store.compareAndSet("override/reviews", version + 1_000, { action: "close" });
        assert.equal(stale.isSet, false);
        const updated = await store.compareAndSet("override/reviews", version, { action: "close" });
        assert.ok(updated.isSet && updated.version > version);
        assert.deepEqual((await store.get("override/reviews"))?.value, { action: "close" });
        const current = (await store.get("override/reviews"))?.version ?? -1;
        assert.deepEqual(await store.compareAndSet("override/reviews", current, undefined), { isSet: true, version: await store.revision() });
        assert.equal(await store.get("override/reviews"), undefined);
        assert.deepEqual(await store.compareAndSet("missing", 7, 1), { isSet: false, current: undefined });
      }));

    void it("lets exactly one of many racing compare-and-sets on one version win", () =>
      withStore(async (store) => {
        const version = await store.put("bucket", { tokens: 1 });
        const outcomes = await Promise.all(Array.from({ length: 10 }, (_, index) => store.compareAndSet("bucket", version, { tokens: 0, by: index })));
        assert.equal(outcomes.filter((outcome) => outcome.isSet).length, 1);
      }));

    void it("forgets a key after its time to live, without counting that as a write", () =>
      withStore(async (store, clock) => {
        await store.put("blast/pool-a", { acts: 1 }, { ttlMs: 60_000 });
        const revision = await store.revision();
        clock.nowMs += 59_999;
        assert.deepEqual((await store.get("blast/pool-a"))?.value, { acts: 1 });
        clock.nowMs += 1;
        assert.equal(await store.get("blast/pool-a"), undefined);
        assert.deepEqual(await store.list("blast/", 10), []);
        assert.equal(await store.revision(), revision);
        assert.ok((await store.compareAndSet("blast/pool-a", 0, { acts: 2 })).isSet, "an expired key counts as absent");
      }));

    void it("lists live keys by prefix, at most as many as asked, a glob character being just a character", () =>
      withStore(
        async (store) => {
          for (const key of ["case/a", "case/b", "case/c*", "gate/a"]) await store.put(key, key);
          const cases = await store.list("case/", 10);
          assert.deepEqual(cases.map((entry) => entry.key).sort(), ["case/a", "case/b", "case/c*"]);
          for (const entry of cases) assert.equal(entry.value, entry.key);
          assert.equal((await store.list("case/", 2)).length, 2);
          assert.deepEqual((await store.list("case/c*", 10)).map((entry) => entry.key), ["case/c*"]);
          assert.deepEqual(await store.list("nothing/", 10), []);
        },
        { maxKeys: 10, maxValueBytes: 1_024 },
      ));

    void it("stays within maxKeys: expired keys go first, then the one closest to expiry, and never one without expiry", () =>
      withStore(async (store, clock) => {
        await store.put("trip/a", 1);
        await store.put("bucket/soon", 1, { ttlMs: 1_000 });
        await store.put("bucket/later", 1, { ttlMs: 5_000 });
        await store.put("trip/b", 1);
        await store.put("trip/c", 1);
        assert.equal(await store.get("bucket/soon"), undefined, "the key closest to expiry made room");
        assert.notEqual(await store.get("bucket/later"), undefined);
        clock.nowMs += 5_000;
        await store.put("trip/d", 1);
        assert.equal((await store.list("", 10)).length, 4);
        await assert.rejects(store.put("trip/e", 1), StateFullError);
        assert.equal(await store.get("trip/e"), undefined);
        await store.put("trip/a", 2);
        assert.equal((await store.get("trip/a"))?.value, 2, "an existing key can always be rewritten");
      }));

    void it("refuses a value over maxValueBytes and a key with control characters, writing nothing", () =>
      withStore(async (store) => {
        const revision = await store.revision();
        await assert.rejects(store.put("big", "x".repeat(2_000)), StateValueTooLargeError);
        await assert.rejects(store.compareAndSet("big", 0, "x".repeat(2_000)), StateValueTooLargeError);
        await assert.rejects(store.put("bad\nkey", 1), InvalidStateKeyError);
        await assert.rejects(store.put("", 1), InvalidStateKeyError);
        assert.equal(await store.get("big"), undefined);
        assert.equal(await store.revision(), revision);
      }));
  });
}
