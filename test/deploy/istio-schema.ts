/**
 * Shapes of the Istio objects deploy/istio ships, from Istio's API reference (telemetry.istio.io/v1
 * Telemetry; install.istio.io/v1alpha1 IstioOperator `meshConfig.extensionProviders` with
 * `envoyHttpAls` / `envoyTcpAls`). Strict, so a misspelt field fails like it would in `istioctl validate`.
 */
import { z } from "zod";

const metadata = z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).optional() });

const alsProviderSettings = z.strictObject({
  service: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  logName: z.string().optional(),
  filterStateObjectsToLog: z.array(z.string()).optional(),
});

export const extensionProvider = z.strictObject({
  name: z.string().min(1),
  envoyHttpAls: alsProviderSettings
    .extend({ additionalRequestHeadersToLog: z.array(z.string()).optional(), additionalResponseHeadersToLog: z.array(z.string()).optional() })
    .optional(),
  envoyTcpAls: alsProviderSettings.optional(),
});

export const istioOperator = z.strictObject({
  apiVersion: z.literal("install.istio.io/v1alpha1"),
  kind: z.literal("IstioOperator"),
  metadata,
  spec: z.strictObject({ meshConfig: z.strictObject({ extensionProviders: z.array(extensionProvider).min(1) }) }),
});

const selector = z.strictObject({ matchLabels: z.record(z.string(), z.string()) });

export const telemetry = z.strictObject({
  apiVersion: z.enum(["telemetry.istio.io/v1", "telemetry.istio.io/v1alpha1"]),
  kind: z.literal("Telemetry"),
  metadata,
  spec: z.strictObject({
    selector: selector.optional(),
    accessLogging: z.array(
      z.strictObject({
        match: z.strictObject({ mode: z.enum(["CLIENT_AND_SERVER", "CLIENT", "SERVER"]) }).optional(),
        providers: z.array(z.strictObject({ name: z.string().min(1) })).optional(),
        disabled: z.boolean().optional(),
        filter: z.strictObject({ expression: z.string() }).optional(),
      }),
    ),
  }),
});

export const kustomization = z.strictObject({
  apiVersion: z.literal("kustomize.config.k8s.io/v1beta1"),
  kind: z.literal("Kustomization"),
  resources: z.array(z.string()),
});
