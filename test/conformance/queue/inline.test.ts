import { pino } from "pino";
import { InlineQueue } from "../../../core/queue/inline.ts";
import { CONFORMANCE_MAX_PENDING, runQueueConformance } from "./suite.ts";

runQueueConformance("inline", () => {
  const queue = new InlineQueue({ maxPending: CONFORMANCE_MAX_PENDING, logger: pino({ level: "silent" }) });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});
