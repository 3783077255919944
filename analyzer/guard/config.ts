import { z } from "zod";
import { integerField, switchField } from "../../core/config/fields.ts";
import { windowDurationMs } from "./token-windows.ts";

/** YAML gives objects and lists; env and flags give JSON text. Text that is not JSON stays text so zod names it. */
export function parseJsonText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

const WINDOWS_EXPECTED = 'expected windows and their tokens, e.g. {"1m": 5, "5m": 10, "1h": 30, "24h": 100}';

export const windowLimits = () =>
  z.preprocess(
    parseJsonText,
    z
      .record(
        z.string().refine((name) => windowDurationMs(name) !== undefined, { error: "expected a window like 30s, 1m, 5m, 1h, 24h" }),
        z.int({ error: "expected a whole number of tokens" }).min(0, { error: "expected tokens >= 0" }).max(1_000_000, { error: "expected tokens <= 1000000" }),
        { error: WINDOWS_EXPECTED },
      )
      .refine((limits) => Object.keys(limits).length > 0, { error: WINDOWS_EXPECTED }),
  );

/** A share of a group, 0..1; env and flags give it as text. */
export const shareField = (defaultShare: number) =>
  z.preprocess((value) => (typeof value === "string" && value.trim() !== "" ? Number(value) : value), z.number({ error: "expected a share between 0 and 1" }).min(0, { error: "expected a share between 0 and 1" }).max(1, { error: "expected a share between 0 and 1" })).default(defaultShare);

const textList = (what: string) =>
  z
    .preprocess(
      (value) => (typeof value === "string" ? value.split(",").map((part) => part.trim()).filter((part) => part !== "") : value),
      z.array(z.string({ error: `expected a list of ${what}` })),
    )
    .default([]);

const optionalPath = () => z.preprocess((value) => (value === "" ? undefined : value), z.string({ error: "expected a file path" }).optional());

/** KubeDefender defaults: a burst of 5 a minute, 10 in 5 minutes, 30 an hour, 100 a day, per kind and scope. */
export const DEFAULT_WINDOWS = { "1m": 5, "5m": 10, "1h": 30, "24h": 100 };

export const guardSchema = z
  .strictObject({
    windows: windowLimits().default(DEFAULT_WINDOWS),
    /** Per operation kind ("delete-pod", "cordon-node", "delete-namespace", ...): windows replacing the defaults. */
    limits: z.preprocess(parseJsonText, z.record(z.string(), windowLimits(), { error: 'expected {"<operation kind>": {"<window>": tokens}}' })).default({}),
    blastMaxShare: shareField(0.34),
    blastSettleMs: integerField(0, 7 * 86_400_000).default(600_000),
    brakeMinTargets: integerField(1, 1_000_000).default(5),
    brakeMaxFleetShare: shareField(0.1),
    nodePoolLabel: z.string().min(1).default("node-pool"),
    stateFile: optionalPath(),
    redisKeyPrefix: z.string().min(1).default("meshsight:guard:"),
    maxKeys: integerField(100, 10_000_000).default(100_000),
    auditFile: optionalPath(),
    auditMaxBytes: integerField(4_096, 10 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
    alertOutputs: textList("output names"),
    admission: z
      .strictObject({
        isEnabled: switchField(false),
        host: z.string().min(1).default("0.0.0.0"),
        port: integerField(0, 65_535).default(8443),
        certFile: optionalPath(),
        keyFile: optionalPath(),
        allowUsers: textList("user names"),
        allowServiceAccounts: textList("service accounts as namespace:name"),
        allowGroups: textList("group names"),
      })
      .prefault({})
      .refine((admission) => !admission.isEnabled || (admission.certFile !== undefined && admission.keyFile !== undefined), {
        error: "the admission webhook needs certFile and keyFile (the API server only calls webhooks over HTTPS)",
        path: ["certFile"],
      }),
  })
  .prefault({});

export type GuardConfig = z.output<typeof guardSchema>;
