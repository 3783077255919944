/**
 * Every config section `meshsight` loads: the kernel's and each component's. Part of the composition root
 * with cli.ts (only these two import every component); tests read it to check --help and the docs. It
 * imports each component's sections file, not its entry, so loading the config loads no component.
 */
import { analyzerSections } from "./analyzer/sections.ts";
import { collectorSections } from "./collector/sections.ts";
import { coreSections } from "./core/config/core-sections.ts";
import type { ConfigOf } from "./core/config/section.ts";
import { proberSections } from "./prober/sections.ts";

export const sections = {
  ...coreSections,
  ...collectorSections,
  ...proberSections,
  ...analyzerSections,
};

export type MeshsightConfig = ConfigOf<typeof sections>;
