import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import { closeRedisClient, createRedisClient } from "../../../core/redis/connection.ts";
import { RedisStateStore } from "../../../core/state/redis-state.ts";
import { useRedis, type RunningService } from "../../services/index.ts";
import { runStateConformance } from "./suite.ts";

let redis: RunningService | undefined;
before(async () => {
  redis = await useRedis();
});
after(async () => {
  await redis?.stop();
});

runStateConformance("redis", async (limits, now) => {
  if (!redis) throw new Error("redis did not start");
  // A unique prefix per case keeps cases apart on the shared Redis without flushing it.
  const client = createRedisClient(redis.url, { connectionName: "meshsight-state-conformance", lazyConnect: true });
  await client.connect();
  return { store: new RedisStateStore({ client, keyPrefix: `conformance-${randomUUID()}`, limits, now }), cleanup: () => closeRedisClient(client) };
});
