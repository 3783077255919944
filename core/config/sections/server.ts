import { z } from "zod";
import { integerField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const serverSection = defineSection(
  z.strictObject({
    host: textField("0.0.0.0"),
    // 4 s leaves room inside the 5 s an orchestrator (and our own contract) allows between SIGTERM and exit.
    shutdownTimeoutMs: integerField(100, 60_000).default(4_000),
  }),
  [
    { key: "host", env: "MESHSIGHT_HOST", flag: "host", description: "Address every listener (HTTP API and receivers) binds to." },
    {
      key: "shutdownTimeoutMs",
      env: "MESHSIGHT_SHUTDOWN_TIMEOUT_MS",
      flag: "shutdown-timeout-ms",
      description: "How long components may take to flush and stop on SIGTERM/SIGINT before the process exits anyway.",
    },
  ],
);
