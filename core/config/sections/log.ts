import { z } from "zod";
import { enumField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const logSection = defineSection(z.strictObject({ level: enumField(LOG_LEVELS, "info") }), [
  { key: "level", env: "MESHSIGHT_LOG_LEVEL", flag: "log-level", description: "Least severe log level written (JSON lines on stdout)." },
]);
