/**
 * The analyzer's config sections, one per subsystem plus alert outputs, apart from its entry so that reading
 * the config loads only the schemas (each subsystem's config.ts), none of the subsystems.
 */
import { actionsSection } from "./actions/config.ts";
import { analyzerSection } from "./config.ts";
import { gateSection } from "./gate/config.ts";
import { outputsSection } from "./outputs/config.ts";

export const analyzerSections = { analyzer: analyzerSection, outputs: outputsSection, actions: actionsSection, gates: gateSection };
