import { z } from "zod";
import { integerField, portField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const httpSection = defineSection(
  z.strictObject({
    port: portField(8080),
    bodyLimitBytes: integerField(1, 100 * 1024 * 1024).default(1024 * 1024),
  }),
  [
    { key: "port", env: "MESHSIGHT_HTTP_PORT", flag: "http-port", description: "Port of the HTTP API, /metrics, /healthz and /readyz (0 = pick a free port)." },
    {
      key: "bodyLimitBytes",
      env: "MESHSIGHT_HTTP_BODY_LIMIT_BYTES",
      flag: "http-body-limit-bytes",
      description: "Largest accepted HTTP request body; larger ones get MS_BODY_TOO_LARGE (413).",
    },
  ],
);
