import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { AlertBook, type AlertRecord } from "../../../analyzer/alerts/alert-book.ts";
import { StateAlertStore } from "../../../analyzer/alerts/alert-state-store.ts";
import { createRedisClient } from "../../../core/redis/connection.ts";
import { RedisStateStore } from "../../../core/state/redis-state.ts";
import { DEFAULT_STATE_LIMITS } from "../../../core/state/state-stores.ts";
import { AlertStateSync } from "../../../analyzer/alerts/alert-state-sync.ts";
import { SilenceBook, type Silence } from "../../../analyzer/alerts/silences.ts";
import { useRedis, type RunningService } from "../../services/index.ts";
import { createLogger } from "../../../core/telemetry/logger.ts";

const logger = createLogger({ level: "silent" });

function alertRecord(id: string): AlertRecord {
  return {
    alert: { id, rule: "sla_low", scope: "service", entity: "web.default", state: "firing", message: "", labels: {}, startsAtMs: 1, endsAtMs: 0, rootCause: null },
    fingerprint: id,
    service: "web.default",
    outputs: [],
    value: 90,
    threshold: 95,
    breachingMinutes: 2,
    points: [],
    timeline: [],
    clearSinceMs: 0,
    lastNotifiedMs: 0,
    isFiringNotified: true,
    silencedBy: [],
  };
}

function silence(id: string): Silence {
  return { id, matchers: [{ name: "alertname", value: "sla_low", isRegex: false }], startsAtMs: 0, endsAtMs: Date.now() + 3_600_000, createdBy: "test", comment: "" };
}

describe("alert state in Redis (the state port's Redis adapter)", () => {
  let redis: RunningService;
  let client: Redis;
  /** The "analyzer" namespace as a replica of the installation `keyPrefix` opens it; replicas share one client here. */
  const unstarted = (keyPrefix: string): StateAlertStore =>
    new StateAlertStore(new RedisStateStore({ client, keyPrefix: `${keyPrefix}:state:analyzer`, limits: DEFAULT_STATE_LIMITS, now: Date.now }));
  const newStore = async (keyPrefix: string): Promise<StateAlertStore> => {
    const store = unstarted(keyPrefix);
    await store.start();
    return store;
  };

  before(async () => {
    redis = await useRedis();
    client = createRedisClient(redis.url, { connectionName: "alert-state-test", lazyConnect: true });
    await client.connect();
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  it("is empty at first, and gives back what another replica saved, half by half", async () => {
    const prefix = `state${randomBytes(3).toString("hex")}`;
    const [replicaA, replicaB] = [await newStore(prefix), await newStore(prefix)];
    assert.deepEqual(await replicaB.load(), { alerts: [], silences: [] });

    await replicaA.save({ alerts: [alertRecord("a1")], silences: [silence("s1")] }, ["alerts", "silences"]);
    // A round saves only the alerts: the silences another replica saved stay.
    await replicaB.save({ alerts: [alertRecord("a1"), alertRecord("a2")], silences: [] }, ["alerts"]);
    const loaded = await replicaA.load();
    assert.deepEqual(loaded.alerts.map((record) => record.alert.id), ["a1", "a2"]);
    assert.deepEqual(loaded.silences.map((each) => each.id), ["s1"]);
    assert.deepEqual((await client.keys(`${prefix}:*`)).sort(), [`${prefix}:state:analyzer:data`, `${prefix}:state:analyzer:meta`, `${prefix}:state:analyzer:revision`]);
    assert.deepEqual((await client.hkeys(`${prefix}:state:analyzer:data`)).sort(), ["alerts", "silences"]);
  });

  it("keeps installations with different prefixes apart", async () => {
    const [first, second] = [await newStore(`p${randomBytes(3).toString("hex")}`), await newStore(`p${randomBytes(3).toString("hex")}`)];
    await first.save({ alerts: [alertRecord("mine")], silences: [] }, ["alerts"]);
    assert.deepEqual((await second.load()).alerts, []);
  });

  it("refuses a value that is not alert state instead of starting from an empty book", async () => {
    const prefix = `bad${randomBytes(3).toString("hex")}`;
    await new RedisStateStore({ client, keyPrefix: `${prefix}:state:analyzer`, limits: DEFAULT_STATE_LIMITS, now: Date.now }).put("alerts", { version: 99, items: [] });
    await assert.rejects((await newStore(prefix)).load(), /alert state "alerts": expected a list/);
  });

  it("a replica's sync loads before a round, saves only the alerts after it, and saves nothing at stop", async () => {
    const prefix = `sync${randomBytes(3).toString("hex")}`;
    const other = await newStore(prefix);
    await other.save({ alerts: [alertRecord("from-other")], silences: [silence("s-other")] }, ["alerts", "silences"]);
    const book = new AlertBook({ maxHistory: 100 });
    const silences = new SilenceBook(10);
    const sync = new AlertStateSync({ store: unstarted(prefix), book, silences, refreshIntervalMs: 60_000, onLoaded: () => undefined, logger });
    await sync.start();
    assert.deepEqual(book.snapshot().map((record) => record.alert.id), ["from-other"]);

    await other.save({ alerts: [alertRecord("newer")], silences: [] }, ["alerts"]);
    await sync.exclusive(() => sync.beforeRound());
    assert.deepEqual(book.snapshot().map((record) => record.alert.id), ["newer"]);
    silences.restore([]);
    await sync.exclusive(() => sync.afterRound());
    assert.deepEqual((await other.load()).silences.map((each) => each.id), ["s-other"], "a round does not save the silences");

    await other.save({ alerts: [alertRecord("after-stop")], silences: [] }, ["alerts"]);
    await sync.stop();
    assert.deepEqual((await other.load()).alerts.map((record) => record.alert.id), ["after-stop"], "stop does not overwrite newer state");
  });
});
