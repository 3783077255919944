import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { BatchV1Api, KubeConfig, V1Job } from "@kubernetes/client-node";
import { z } from "zod";
import { InvalidProbeSpecError, type ProbeContext, type ProbeKind, type ProbeOutcome } from "../kind.ts";
import { roundMs } from "../outcome.ts";
import { parseSpecWith } from "../spec-schema.ts";
import { TooManyPendingRunsError, type KuberhealthyReport, type PendingReports } from "./pending-reports.ts";

export interface K8sJobKindOptions {
  kubeConfig: KubeConfig;
  /** meshsight's report URL as checker pods reach it (KH_REPORTING_URL), e.g. http://meshsight.monitoring.svc:8080/api/v1/kuberhealthy/check. */
  reportingUrl: string;
  reports: PendingReports;
  defaultNamespace: string;
  /** Run ids; random UUIDs unless a test needs to know them. */
  newRunId?: () => string;
}

export interface K8sJobSpec {
  image: string;
  namespace: string | undefined;
  command: string[] | undefined;
  args: string[] | undefined;
  env: Record<string, string>;
  serviceAccountName: string | undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const schema = z.strictObject({
  image: z.string({ error: "expected a container image such as ghcr.io/org/check:1.0" }).min(1),
  namespace: z.string({ error: "expected a namespace" }).regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: "expected a Kubernetes namespace name" }).optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string().regex(ENV_NAME, { error: "expected an environment variable name" }), z.string({ error: "env values are strings" })).optional(),
  serviceAccountName: z.string({ error: "expected a service account name" }).optional(),
});

const RESERVED_ENV = ["KH_REPORTING_URL", "KH_RUN_UUID", "KH_CHECK_RUN_DEADLINE", "KH_POD_NAMESPACE", "MESHSIGHT_TARGET"];

/**
 * `k8s-job`: runs a checker image as a Kubernetes Job that reports back over Kuberhealthy's external-check
 * protocol, so Kuberhealthy checker images work unchanged. The Job is deleted afterwards whatever happened
 * (report, failure, timeout, abort): checker pods piling up is Kuberhealthy's best-known failure.
 */
export function createK8sJobKind(options: K8sJobKindOptions): ProbeKind<K8sJobSpec> {
  // Imported here, not at the top: a process without cluster access (no KubeConfig, no such kind) never loads it.
  const batchClient = import("@kubernetes/client-node").then(({ BatchV1Api }) => options.kubeConfig.makeApiClient(BatchV1Api));
  const newRunId = options.newRunId ?? randomUUID;
  return {
    name: "k8s-job",
    parseSpec(raw) {
      const spec = parseSpecWith(schema, raw);
      const reserved = Object.keys(spec.env ?? {}).find((name) => RESERVED_ENV.includes(name));
      if (reserved) throw new InvalidProbeSpecError(`env.${reserved}: set by meshsight for every run; choose another name`);
      return { image: spec.image, namespace: spec.namespace, command: spec.command, args: spec.args, env: spec.env ?? {}, serviceAccountName: spec.serviceAccountName };
    },
    async run(spec, target, context) {
      const started = performance.now();
      const uuid = newRunId();
      const namespace = spec.namespace ?? options.defaultNamespace;
      const name = `meshsight-check-${uuid.slice(0, 8)}-${Date.now().toString(36)}`;
      const deadlineMs = Date.now() + context.timeoutMs;
      const outcome = (status: ProbeOutcome["status"], message: string): ProbeOutcome => ({ status, message, phases: { total: roundMs(performance.now() - started) }, metrics: {} });
      let report: Promise<KuberhealthyReport>;
      try {
        report = options.reports.expect(uuid, deadlineMs);
      } catch (error) {
        if (error instanceof TooManyPendingRunsError) return outcome("error", `cannot start the Job: ${error.message}; raise the limit or lower the frequency of k8s-job cases`);
        throw error;
      }
      let created = false;
      let result: ProbeOutcome;
      const batch = await batchClient;
      try {
        await batch.createNamespacedJob({ namespace, body: jobManifest(spec, { name, namespace, uuid, target, deadlineMs, reportingUrl: options.reportingUrl }) });
        created = true;
        const verdict = await waitForReport(report, context);
        if (verdict === "timeout") {
          result = outcome("timeout", `no report from Job ${namespace}/${name} within ${context.timeoutMs}ms; the checker must POST {"OK":..,"Errors":[..]} to KH_REPORTING_URL with header kh-run-uuid (is ${options.reportingUrl} reachable from the pod?)`);
        } else {
          result = verdict.ok ? outcome("success", "") : outcome("failure", `the checker reported: ${verdict.errors.join("; ")}`);
        }
      } catch (error) {
        result = outcome("error", `creating Job ${namespace}/${name} failed: ${describeApiError(error)}`);
      } finally {
        options.reports.finish(uuid);
      }
      // Deleted whatever happened above; a failed delete is an infrastructure problem worth reporting.
      const leftover = created ? await deleteJob(batch, name, namespace) : "";
      if (leftover === "") return result;
      return { ...result, status: result.status === "success" ? "error" : result.status, message: `${result.message === "" ? "" : `${result.message}; `}${leftover}` };
    },
  };
}

function jobManifest(spec: K8sJobSpec, run: { name: string; namespace: string; uuid: string; target: string; deadlineMs: number; reportingUrl: string }): V1Job {
  const labels = { "app.kubernetes.io/managed-by": "meshsight", "kh-run-uuid": run.uuid };
  const env = [
    ...Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    { name: "KH_REPORTING_URL", value: run.reportingUrl },
    { name: "KH_RUN_UUID", value: run.uuid },
    { name: "KH_CHECK_RUN_DEADLINE", value: String(Math.floor(run.deadlineMs / 1000)) },
    { name: "KH_POD_NAMESPACE", value: run.namespace },
    { name: "MESHSIGHT_TARGET", value: run.target },
  ];
  const timeoutSeconds = Math.max(1, Math.ceil((run.deadlineMs - Date.now()) / 1000));
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: run.name, namespace: run.namespace, labels },
    spec: {
      // One attempt: retries are the runner's, and a second pod would report with the same uuid.
      backoffLimit: 0,
      activeDeadlineSeconds: timeoutSeconds + 30,
      // A safety net in case meshsight dies before its own delete: the cluster removes the Job anyway.
      ttlSecondsAfterFinished: 300,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: spec.serviceAccountName,
          containers: [{ name: "check", image: spec.image, command: spec.command, args: spec.args, env }],
        },
      },
    },
  };
}

async function waitForReport(report: Promise<KuberhealthyReport>, context: ProbeContext): Promise<KuberhealthyReport | "timeout"> {
  let onAbort: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stopped = new Promise<"timeout">((resolve) => {
    onAbort = () => resolve("timeout");
    timer = setTimeout(onAbort, context.timeoutMs);
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([report, stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) context.signal.removeEventListener("abort", onAbort);
  }
}

/** Deletes with propagationPolicy Background so the pod goes too; returns what went wrong, "" when gone. */
async function deleteJob(batch: BatchV1Api, name: string, namespace: string): Promise<string> {
  try {
    await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: "Background" });
    return "";
  } catch (error) {
    // 404: already gone (TTL or someone else). Otherwise ttlSecondsAfterFinished is the safety net.
    return apiStatus(error) === 404 ? "" : `deleting Job ${namespace}/${name} failed: ${describeApiError(error)} (ttlSecondsAfterFinished removes it later)`;
  }
}

function apiStatus(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "number" ? error.code : undefined;
}

function describeApiError(error: unknown): string {
  const status = apiStatus(error);
  const body = typeof error === "object" && error !== null && "body" in error ? error.body : undefined;
  let detail = error instanceof Error ? error.message : String(error);
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === "string") detail = parsed.message;
    } catch {
      detail = body.slice(0, 200);
    }
  }
  return status === undefined ? detail : `HTTP ${status}: ${detail}`;
}
