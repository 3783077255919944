import { z } from "zod";
import { enumField, integerField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** auto: readable lines on a terminal, JSON lines when stdout is a pipe or a file (what log pipelines ingest). */
export const LOG_FORMATS = ["auto", "json", "text"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const logSection = defineSection(
  z.strictObject({
    level: enumField(LOG_LEVELS, "info"),
    format: enumField(LOG_FORMATS, "auto"),
    summaryIntervalSeconds: integerField(0, 86_400).default(60),
  }),
  [
    { key: "level", env: "MESHSIGHT_LOG_LEVEL", flag: "log-level", description: "Least severe log level written." },
    {
      key: "format",
      env: "MESHSIGHT_LOG_FORMAT",
      flag: "log-format",
      description: "How log lines are written on stdout: text (time, level, message, fields), json (one JSON object a line), or auto: text on a terminal, json otherwise.",
    },
    {
      key: "summaryIntervalSeconds",
      env: "MESHSIGHT_LOG_SUMMARY_INTERVAL_SECONDS",
      flag: "log-summary-interval-seconds",
      description: "Seconds between the info lines summing up ingest rates and rejects (written only when something arrived or was rejected); 0 turns them off.",
    },
  ],
);
