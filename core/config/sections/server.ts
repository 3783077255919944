import { z } from "zod";
import { integerField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

/** What one meshsight process does; several processes with different roles share storage and Redis. */
export const SERVER_ROLES = ["collector", "prober", "analyzer", "api"] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

const ROLES_EXPECTED = `expected a comma-separated list of ${SERVER_ROLES.join(", ")}`;

/** Env and flags give "collector,api"; YAML may give a list. Duplicates are harmless, so they are folded. */
function roleListFromText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return value.split(",").map((role) => role.trim()).filter((role) => role !== "");
}

function isServerRole(role: string): role is ServerRole {
  return (SERVER_ROLES as readonly string[]).includes(role);
}

// Strings first and the role check after, so the error names the unknown role instead of a list index.
const roleList = z
  .preprocess(roleListFromText, z.array(z.string({ error: ROLES_EXPECTED }), { error: ROLES_EXPECTED }).min(1, { error: ROLES_EXPECTED }))
  .superRefine((roles, context) => {
    const unknown = roles.filter((role) => !isServerRole(role));
    if (unknown.length > 0) context.addIssue({ code: "custom", message: `unknown role ${unknown.map((role) => JSON.stringify(role)).join(", ")}; ${ROLES_EXPECTED}` });
  })
  .transform((roles) => [...new Set(roles.filter(isServerRole))])
  .default([...SERVER_ROLES]);

export const serverSection = defineSection(
  z.strictObject({
    host: textField("0.0.0.0"),
    // 4 s leaves room inside the 5 s an orchestrator (and our own contract) allows between SIGTERM and exit.
    shutdownTimeoutMs: integerField(100, 60_000).default(4_000),
    roles: roleList,
  }),
  [
    { key: "host", env: "MESHSIGHT_HOST", flag: "host", description: "Address every listener (HTTP API and receivers) binds to." },
    {
      key: "shutdownTimeoutMs",
      env: "MESHSIGHT_SHUTDOWN_TIMEOUT_MS",
      flag: "shutdown-timeout-ms",
      description: "How long components may take to flush and stop on SIGTERM/SIGINT before the process exits anyway.",
    },
    {
      key: "roles",
      env: "MESHSIGHT_ROLES",
      flag: "role",
      description: "What this process runs, a comma list of collector, prober, analyzer, api (default all); /healthz, /readyz and /metrics are always served.",
    },
  ],
);
