/** The prober's config sections, apart from its entry so that reading the config loads no probe kind. */
import { proberSection } from "./config.ts";

export const proberSections = { prober: proberSection };
