import { z } from "zod";
import { integerField } from "../../core/config/fields.ts";
import { defineSection } from "../../core/config/section.ts";
import { guardSchema, parseJsonText } from "../guard/config.ts";

export const ACTION_KINDS = ["delete-pod", "cordon-node", "scale-workload", "abort-rollout", "webhook"] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];
export const ACTION_MODES = ["dry-run", "approval", "auto"] as const;
export type ActionMode = (typeof ACTION_MODES)[number];

const httpUrl = z.string({ error: "expected an http:// or https:// URL" }).refine((text) => URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol), { error: "expected an http:// or https:// URL" });

/** One remediation bound to alarm rules or root-cause verdicts (docs/self-healing.md, "Actions"). */
const actionBinding = z
  .strictObject({
    name: z.string({ error: "expected an action name" }).regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: "expected an action name of 1-64 letters, digits, '_', '.', '-'" }),
    kind: z.enum(ACTION_KINDS, { error: `expected one of ${ACTION_KINDS.join(", ")}` }),
    // Nothing destructive happens until an operator says so per action.
    mode: z.enum(ACTION_MODES, { error: `expected one of ${ACTION_MODES.join(", ")}` }).default("dry-run"),
    /** Alarm rule names whose firing alerts trigger the action; empty: any rule. */
    rules: z.array(z.string()).default([]),
    /** What the root cause must name: an instance (pod), a service, or anything (also no verdict at all). */
    rootCause: z.enum(["instance", "service", "any"], { error: "expected instance, service or any" }).default("any"),
    minScore: z.number().min(0).max(1).default(0),
    /** Services (as `name.namespace`) the action may touch; empty: any. */
    services: z.array(z.string()).default([]),
    /** scale-workload and abort-rollout: the workload or Rollout name; {service} is the service's short name. */
    workload: z.string().min(1).default("{service}"),
    workloadKind: z.enum(["deployment", "statefulset"]).default("deployment"),
    replicasDelta: z.int().min(-100).max(100).default(1),
    maxReplicas: z.int().min(0).max(10_000).default(20),
    /** webhook: where to POST; abort-rollout with provider webhook: the Flagger or deployment tool's endpoint. */
    url: httpUrl.optional(),
    provider: z.enum(["argo", "webhook"]).default("argo"),
    timeoutMs: z.int().min(100).max(120_000).default(10_000),
  })
  .refine((binding) => !(binding.kind === "webhook" || (binding.kind === "abort-rollout" && binding.provider === "webhook")) || binding.url !== undefined, { error: "this action needs url", path: ["url"] });

export type ActionBinding = z.output<typeof actionBinding>;

const bindingList = z
  .preprocess(parseJsonText, z.array(actionBinding, { error: "expected a list of actions (a YAML list, or a JSON array in env and flags)" }))
  .default([])
  .refine((bindings) => new Set(bindings.map((binding) => binding.name)).size === bindings.length, { error: "action names must be unique" });

/** Self-healing actions and the risk guard in front of them and of the Kubernetes API (docs/self-healing.md). */
export const actionsSection = defineSection(
  z.strictObject({
    actions: bindingList,
    approvalTtlMs: integerField(10_000, 7 * 86_400_000).default(900_000),
    batchWindowMs: integerField(0, 60_000).default(2_000),
    maxRecords: integerField(10, 1_000_000).default(1_000),
    maxPending: integerField(1, 1_000_000).default(1_000),
    serviceLabel: z.string().min(1).default("app"),
    guard: guardSchema,
  }),
  [
    { key: "actions", env: "MESHSIGHT_ACTIONS", flag: "actions", description: "Remediation actions: a list of {name, kind, mode, rules, rootCause, ...} (YAML list, or a JSON array in env/flag); mode defaults to dry-run." },
    { key: "approvalTtlMs", env: "MESHSIGHT_ACTION_APPROVAL_TTL_MS", flag: "action-approval-ttl-ms", description: "How long an action in approval mode waits for POST /api/v1/actions/:id/approve before it expires." },
    { key: "batchWindowMs", env: "MESHSIGHT_ACTION_BATCH_WINDOW_MS", flag: "action-batch-window-ms", description: "Actions requested within this time are judged together by the sanity brake." },
    { key: "maxRecords", env: "MESHSIGHT_ACTION_RECORDS_MAX", flag: "action-records-max", description: "Action records kept for GET /api/v1/actions (oldest finished ones dropped first)." },
    { key: "maxPending", env: "MESHSIGHT_ACTION_PENDING_MAX", flag: "action-pending-max", description: "Actions waiting for their batch at most; more are recorded as dropped." },
    { key: "serviceLabel", env: "MESHSIGHT_ACTION_SERVICE_LABEL", flag: "action-service-label", description: "Pod label holding a service's short name; counts a service's pods for the blast radius." },
    { key: "guard.windows", env: "MESHSIGHT_GUARD_WINDOWS", flag: "guard-windows", description: 'Token bucket windows and their tokens per operation kind and scope, e.g. {"1m":5,"5m":10,"1h":30,"24h":100}.' },
    { key: "guard.limits", env: "MESHSIGHT_GUARD_LIMITS", flag: "guard-limits", description: 'Windows per operation kind replacing the defaults, e.g. {"cordon-node":{"1m":2,"1h":5}}.' },
    { key: "guard.blastMaxShare", env: "MESHSIGHT_GUARD_BLAST_MAX_SHARE", flag: "guard-blast-max-share", description: "Largest share of a service's pods or a pool's nodes acted on at once (at least one is always allowed)." },
    { key: "guard.blastSettleMs", env: "MESHSIGHT_GUARD_BLAST_SETTLE_MS", flag: "guard-blast-settle-ms", description: "How long an act counts against its group's blast radius." },
    { key: "guard.brakeMinTargets", env: "MESHSIGHT_GUARD_BRAKE_MIN_TARGETS", flag: "guard-brake-min-targets", description: "Targets of one kind at once that always engage the sanity brake when exceeded." },
    { key: "guard.brakeMaxFleetShare", env: "MESHSIGHT_GUARD_BRAKE_MAX_FLEET_SHARE", flag: "guard-brake-max-fleet-share", description: "Share of the fleet (nodes) at once above which the sanity brake engages, when larger than brakeMinTargets." },
    { key: "guard.nodePoolLabel", env: "MESHSIGHT_GUARD_NODE_POOL_LABEL", flag: "guard-node-pool-label", description: "Node label naming its pool (scope of node buckets and blast radius)." },
    { key: "guard.stateFile", env: "MESHSIGHT_GUARD_STATE_FILE", flag: "guard-state-file", description: "Guard state without Redis (default <dataDir>/guard-state.json); with a Redis URL the state lives in Redis, shared by replicas." },
    { key: "guard.redisKeyPrefix", env: "MESHSIGHT_GUARD_REDIS_KEY_PREFIX", flag: "guard-redis-key-prefix", description: "Unused: guard state lives in the shared state, under <queue prefix>:state:guard in Redis; kept so existing configs still load." },
    { key: "guard.maxKeys", env: "MESHSIGHT_GUARD_MAX_KEYS", flag: "guard-max-keys", description: "Buckets kept in the state file at most (idle ones are dropped first, trips never)." },
    { key: "guard.auditFile", env: "MESHSIGHT_GUARD_AUDIT_FILE", flag: "guard-audit-file", description: "JSON Lines audit of every guard decision (default <dataDir>/guard-audit.jsonl)." },
    { key: "guard.auditMaxBytes", env: "MESHSIGHT_GUARD_AUDIT_MAX_BYTES", flag: "guard-audit-max-bytes", description: "Size at which the guard audit is rotated to <file>.1." },
    { key: "guard.alertOutputs", env: "MESHSIGHT_GUARD_ALERT_OUTPUTS", flag: "guard-alert-outputs", description: "Alert outputs that receive the guard's own alerts (comma-separated; empty: all)." },
    { key: "guard.admission.isEnabled", env: "MESHSIGHT_ADMISSION_ENABLED", flag: "admission-enabled", description: "Serve the validating admission webhook (HTTPS, needs certFile and keyFile)." },
    { key: "guard.admission.host", env: "MESHSIGHT_ADMISSION_HOST", flag: "admission-host", description: "Address the admission webhook listens on." },
    { key: "guard.admission.port", env: "MESHSIGHT_ADMISSION_PORT", flag: "admission-port", description: "HTTPS port of the admission webhook." },
    { key: "guard.admission.certFile", env: "MESHSIGHT_ADMISSION_CERT_FILE", flag: "admission-cert-file", description: "PEM certificate the admission webhook serves (its CA goes into the ValidatingWebhookConfiguration's caBundle)." },
    { key: "guard.admission.keyFile", env: "MESHSIGHT_ADMISSION_KEY_FILE", flag: "admission-key-file", description: "PEM private key of that certificate." },
    { key: "guard.admission.allowUsers", env: "MESHSIGHT_ADMISSION_ALLOW_USERS", flag: "admission-allow-users", description: "Users whose deletes skip the guard (comma-separated)." },
    { key: "guard.admission.allowServiceAccounts", env: "MESHSIGHT_ADMISSION_ALLOW_SERVICE_ACCOUNTS", flag: "admission-allow-service-accounts", description: "Service accounts (namespace:name) whose deletes skip the guard; add meshsight's own, its actions already passed it." },
    { key: "guard.admission.allowGroups", env: "MESHSIGHT_ADMISSION_ALLOW_GROUPS", flag: "admission-allow-groups", description: "Groups whose deletes skip the guard (comma-separated)." },
  ],
);

export type ActionsConfig = z.output<typeof actionsSection.schema>;
