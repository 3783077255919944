import { z } from "zod";
import { integerField, optionalPathField, shareField, switchField, textListField } from "../../core/config/fields.ts";
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

const SHARE_EXPECTED = "expected a share between 0 and 1";

/** KubeDefender defaults: a burst of 5 a minute, 10 in 5 minutes, 30 an hour, 100 a day, per kind and scope. */
export const DEFAULT_WINDOWS = { "1m": 5, "5m": 10, "1h": 30, "24h": 100 };

export const guardSchema = z
  .strictObject({
    windows: windowLimits().default(DEFAULT_WINDOWS),
    /** Per operation kind ("delete-pod", "cordon-node", "delete-namespace", ...): windows replacing the defaults. */
    limits: z.preprocess(parseJsonText, z.record(z.string(), windowLimits(), { error: 'expected {"<operation kind>": {"<window>": tokens}}' })).default({}),
    blastMaxShare: shareField(0.34, SHARE_EXPECTED),
    blastSettleMs: integerField(0, 7 * 86_400_000).default(600_000),
    brakeMinTargets: integerField(1, 1_000_000).default(5),
    brakeMaxFleetShare: shareField(0.1, SHARE_EXPECTED),
    nodePoolLabel: z.string().min(1).default("node-pool"),
    stateFile: optionalPathField(),
    redisKeyPrefix: z.string().min(1).default("meshsight:guard:"),
    maxKeys: integerField(100, 10_000_000).default(100_000),
    auditFile: optionalPathField(),
    auditMaxBytes: integerField(4_096, 10 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
    alertOutputs: textListField("expected a list of output names"),
    admission: z
      .strictObject({
        isEnabled: switchField(false),
        host: z.string().min(1).default("0.0.0.0"),
        port: integerField(0, 65_535).default(8443),
        certFile: optionalPathField(),
        keyFile: optionalPathField(),
        allowUsers: textListField("expected a list of user names"),
        allowServiceAccounts: textListField("expected a list of service accounts as namespace:name"),
        allowGroups: textListField("expected a list of group names"),
      })
      .prefault({})
      .refine((admission) => !admission.isEnabled || (admission.certFile !== undefined && admission.keyFile !== undefined), {
        error: "the admission webhook needs certFile and keyFile (the API server only calls webhooks over HTTPS)",
        path: ["certFile"],
      }),
  })
  .prefault({});

export type GuardConfig = z.output<typeof guardSchema>;
