import { z } from "zod";
import { portField } from "../../../core/config/fields.ts";
import { defineSection } from "../../../core/config/section.ts";

/** The Zipkin receiver, which also serves the Zipkin query API as a Zipkin server does: `receivers.zipkin`. */
export const zipkinReceiverSettings = defineSection(z.strictObject({ port: portField(9_411) }), [
  { key: "port", env: "MESHSIGHT_ZIPKIN_PORT", flag: "zipkin-port", formerly: "receivers.zipkinPort", description: "Zipkin v2 span ingest and query API (0 = pick a free port)." },
]);

export type ZipkinReceiverConfig = z.output<(typeof zipkinReceiverSettings)["schema"]>;
