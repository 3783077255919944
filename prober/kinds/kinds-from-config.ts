import type { KubeConfig } from "@kubernetes/client-node";
import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { KindLookup } from "../case.ts";
import type { ProberConfig } from "../config.ts";
import { PendingReports } from "./k8s-job/pending-reports.ts";
import { registerKuberhealthyReportRoute } from "./k8s-job/report-route.ts";
import { createProbeKindRegistry, type ProbeKindRegistryOptions } from "./registry.ts";
import { DEFAULT_SCRIPT_KIND_OPTIONS } from "./script/script-kind.ts";

export interface ConfiguredKinds {
  kinds: KindLookup;
  /** The Kuberhealthy report endpoint, only when k8s-job runs can wait for reports. */
  routes: FastifyPluginAsync[];
}

/**
 * The kinds this process can run, from the prober's config: the built-in ones always, `script` when a
 * cases directory is set, `k8s-job` when cluster access and the report URL pods reach are both known.
 * The k8s-job kind and the report route share ONE PendingReports: a report reaching a different registry
 * than the run waiting for it would be answered "unknown run" and the run would time out.
 */
export function kindsFromConfig(config: ProberConfig, kubeConfig: KubeConfig | null | undefined, logger: Logger): ConfiguredKinds {
  const options: ProbeKindRegistryOptions = {};
  if (config.scriptCasesDir !== undefined) {
    options.script = {
      ...DEFAULT_SCRIPT_KIND_OPTIONS,
      casesDir: config.scriptCasesDir,
      defaultMemoryMb: config.scriptMemoryMb,
      maxMemoryMb: config.scriptMaxMemoryMb,
      maxCompiledCases: config.scriptMaxCompiledCases,
      env: config.scriptEnv,
      onLog: (line, target) => logger.info({ target, line }, "script case log"),
    };
  }
  const routes: FastifyPluginAsync[] = [];
  if (config.k8sJobReportingUrl !== undefined && kubeConfig) {
    const reports = new PendingReports(config.k8sJobMaxPendingReports);
    options.k8sJob = { kubeConfig, reportingUrl: config.k8sJobReportingUrl, reports, defaultNamespace: config.k8sJobNamespace };
    routes.push(async (app) => registerKuberhealthyReportRoute(app, reports));
  } else if (config.k8sJobReportingUrl !== undefined) {
    logger.warn("prober.k8sJobReportingUrl is set but no Kubernetes configuration was found (in-cluster service account, KUBECONFIG or ~/.kube/config): k8s-job cases are off");
  }
  return { kinds: createProbeKindRegistry(options).lookup, routes };
}
