import { z } from "zod";
import { integerField, optionalUrlField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const queueSection = defineSection(
  z.strictObject({
    redisUrl: optionalUrlField(["redis", "rediss"]),
    // BullMQ joins key parts with ":", so a prefix containing one would collide with other key names.
    prefix: z
      .string({ error: "expected a non-empty prefix without ':' or spaces" })
      .regex(/^[^:\s]{1,64}$/, { error: "expected a non-empty prefix without ':' or spaces" })
      .default("meshsight"),
    maxPending: integerField(1, 10_000_000).default(10_000),
  }),
  [
    {
      key: "redisUrl",
      env: "MESHSIGHT_REDIS_URL",
      flag: "redis-url",
      description: "Redis URL (redis://host:6379); when set, jobs go through BullMQ and are shared by every meshsight process.",
    },
    { key: "prefix", env: "MESHSIGHT_QUEUE_PREFIX", flag: "queue-prefix", description: "Prefix of meshsight's Redis keys, so several installations can share one Redis." },
    {
      key: "maxPending",
      env: "MESHSIGHT_QUEUE_MAX_PENDING",
      flag: "queue-max-pending",
      description: "Most jobs a queue holds before adding fails with backpressure instead of growing memory.",
    },
  ],
);
