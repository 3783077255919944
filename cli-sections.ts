/**
 * Every config section `meshsight` loads: the kernel's and each component's. Part of the composition root
 * with cli.ts (only these two import every component); tests read it to check --help and the docs.
 */
import { actionsSection } from "./analyzer/actions/config.ts";
import { analyzerSection } from "./analyzer/config.ts";
import { gateSection } from "./analyzer/gate/config.ts";
import { outputsSection } from "./analyzer/outputs/config.ts";
import { collectorSection } from "./collector/config.ts";
import { tracesSection } from "./collector/traces/config.ts";
import { coreSections } from "./core/config/core-sections.ts";
import type { ConfigOf } from "./core/config/section.ts";
import { proberSection } from "./prober/config.ts";

export const sections = {
  ...coreSections,
  collector: collectorSection,
  traces: tracesSection,
  prober: proberSection,
  analyzer: analyzerSection,
  outputs: outputsSection,
  actions: actionsSection,
  gates: gateSection,
};

export type MeshsightConfig = ConfigOf<typeof sections>;
