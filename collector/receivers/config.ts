import { z } from "zod";
import { defineSection, nestedBindings } from "../../core/config/section.ts";
import { accessLogFilesSettings } from "./access-log/config.ts";
import { alsReceiverSettings } from "./envoy-als/config.ts";
import { otlpReceiverSettings } from "./otlp/config.ts";
import { spanRequestLimitSettings } from "./span-request-limits.ts";
import { zipkinReceiverSettings } from "./zipkin/config.ts";

/**
 * The `receivers` section: each receiver declares its own settings beside its code and is one part here.
 * Ports default to what meshes already point at (SkyWalking OAP's ALS port, OTLP, Zipkin).
 */
export const receiversSection = defineSection(
  z.strictObject({
    als: alsReceiverSettings.schema.prefault({}),
    otlp: otlpReceiverSettings.schema.prefault({}),
    zipkin: zipkinReceiverSettings.schema.prefault({}),
    spanRequests: spanRequestLimitSettings.schema.prefault({}),
    accessLogFiles: accessLogFilesSettings.schema.prefault({}),
  }),
  [
    ...nestedBindings("als", alsReceiverSettings.bindings),
    ...nestedBindings("otlp", otlpReceiverSettings.bindings),
    ...nestedBindings("zipkin", zipkinReceiverSettings.bindings),
    ...nestedBindings("spanRequests", spanRequestLimitSettings.bindings),
    ...nestedBindings("accessLogFiles", accessLogFilesSettings.bindings),
  ],
);

export type ReceiversConfig = z.output<(typeof receiversSection)["schema"]>;
