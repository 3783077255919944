import type { ConfigOf } from "./section.ts";
import { authSection } from "./sections/auth.ts";
import { httpSection } from "./sections/http.ts";
import { logSection } from "./sections/log.ts";
import { queueSection } from "./sections/queue.ts";
import { serverSection } from "./sections/server.ts";
import { storageSection } from "./sections/storage.ts";
import { tracingSection } from "./sections/tracing.ts";

/** The sections of the shared kernel; components spread these and add their own before loading. */
export const coreSections = {
  server: serverSection,
  http: httpSection,
  auth: authSection,
  storage: storageSection,
  queue: queueSection,
  log: logSection,
  tracing: tracingSection,
};

export type CoreConfig = ConfigOf<typeof coreSections>;
