/**
 * The import rules of docs/architecture.md ("Layout" and "Import rules") as code: which folder may import
 * which. Kept apart from the test so the test can also feed it made-up trees and see each rule bite.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import ts from "typescript";

export const COMPONENTS = ["collector", "prober", "analyzer", "dashboards"] as const;
type Component = (typeof COMPONENTS)[number];

/** Each component's one door: the only file of it that the composition root imports. */
export const COMPONENT_ENTRIES: Record<Component, string> = {
  collector: "collector/collector.ts",
  prober: "prober/prober.ts",
  analyzer: "analyzer/analyzer.ts",
  dashboards: "dashboards/dashboards.ts",
};

/** Each component's config sections, apart from its entry so that reading the config loads no component. */
export const COMPONENT_SECTIONS: Partial<Record<Component, string>> = {
  collector: "collector/sections.ts",
  prober: "prober/sections.ts",
  analyzer: "analyzer/sections.ts",
};

/** The composition root: the only files that see every component. */
const COMPOSITION_ROOT = new Set(["cli.ts", "cli-sections.ts"]);

/**
 * The analyzer's three subsystems, each behind its own entry; only analyzer/analyzer.ts puts them together.
 * A path belongs to the subsystem whose prefix it starts with.
 */
export const ANALYZER_SUBSYSTEMS: Record<string, { entry: string; prefixes: readonly string[] }> = {
  analysis: {
    entry: "analyzer/analysis.ts",
    prefixes: [
      "analyzer/alerts/",
      "analyzer/rules/",
      "analyzer/health/",
      "analyzer/rca/",
      "analyzer/outputs/",
      "analyzer/api/",
      "analyzer/analysis.ts",
      "analyzer/analysis-loop.ts",
      "analyzer/analysis-round.ts",
      "analyzer/analyzer-metrics.ts",
      "analyzer/config.ts",
    ],
  },
  "release gate": { entry: "analyzer/gate/gates.ts", prefixes: ["analyzer/gate/"] },
  "self-healing": { entry: "analyzer/actions/self-healing.ts", prefixes: ["analyzer/actions/", "analyzer/guard/"] },
};

/** What the analysis subsystem promises the others: the notification an alert produces, and nothing else. */
const ANALYSIS_CONTRACT = "analyzer/alerts/notification.ts";

/** Receivers decode and hand over through the ports beside collector/ingest.ts; trace handling lives behind them, and neither imports the other. */
const RECEIVERS = "collector/receivers/";
const TRACES = "collector/traces/";

export interface ImportEdge {
  from: string;
  to: string;
}

/** Repository-relative paths of every TypeScript file the rules cover (tests and benchmarks are free). */
export function sourceFiles(root: string): string[] {
  const files: string[] = [...COMPOSITION_ROOT].filter((file) => statSafe(join(root, file)));
  for (const folder of ["core", ...COMPONENTS]) files.push(...walk(root, folder));
  return files.sort();
}

function statSafe(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function walk(root: string, folder: string): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "generated" ? [] : walk(root, path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Relative imports of one file (static, re-exports and dynamic), as repository-relative paths. */
export function importsOf(file: string, source: string): ImportEdge[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => ({ from: file, to: normalize(join(dirname(file), specifier)).split(sep).join("/") }));
}

export function importsOfTree(root: string): ImportEdge[] {
  return sourceFiles(root).flatMap((file) => importsOf(file, readFileSync(join(root, file), "utf8")));
}

function componentOf(path: string): Component | "core" | "root" | "other" {
  if (COMPOSITION_ROOT.has(path)) return "root";
  const top = path.split("/", 1)[0] ?? "";
  if (top === "core") return "core";
  return (COMPONENTS as readonly string[]).includes(top) ? (top as Component) : "other";
}

export function subsystemOf(path: string): string | undefined {
  return Object.entries(ANALYZER_SUBSYSTEMS).find(([, subsystem]) => subsystem.prefixes.some((prefix) => path === prefix || path.startsWith(prefix)))?.[0];
}

/** Every broken rule, one sentence each; empty when the tree keeps them all. */
export function importViolations(edges: readonly ImportEdge[]): string[] {
  const entries = new Set([...Object.values(COMPONENT_ENTRIES), ...Object.values(COMPONENT_SECTIONS)]);
  const subsystemEntries = new Set(Object.values(ANALYZER_SUBSYSTEMS).map((subsystem) => subsystem.entry));
  const violations: string[] = [];
  for (const { from, to } of edges) {
    const source = componentOf(from);
    const target = componentOf(to);
    const broke = (rule: string): number => violations.push(`${from} imports ${to}: ${rule}`);
    if (target === "root") {
      if (source !== "root") broke("nothing imports the composition root");
    }
    else if (source === "root") {
      if (target !== "core" && !entries.has(to) && to !== "package.json") broke(`the composition root imports only core and each component's entry (${[...entries].join(", ")})`);
    } else if (source === "core") {
      if (target !== "core") broke("core imports no component");
    } else if (source !== "other" && target !== "core" && target !== source) {
      broke(`a component imports only core and itself, never another component (${source} -> ${target})`);
    }
    if (source === "analyzer" && target === "analyzer") {
      const from_ = subsystemOf(from);
      const to_ = subsystemOf(to);
      if (from === COMPONENT_ENTRIES.analyzer) {
        if (!subsystemEntries.has(to) && to !== ANALYSIS_CONTRACT && to !== COMPONENT_SECTIONS.analyzer) broke("analyzer/analyzer.ts puts the subsystems together through their entries only");
      } else if (from === COMPONENT_SECTIONS.analyzer) {
        if (!to.endsWith("/config.ts")) broke("analyzer/sections.ts imports only the subsystems' config.ts files");
      } else if (to === COMPONENT_ENTRIES.analyzer || to === COMPONENT_SECTIONS.analyzer) {
        broke("a subsystem does not import the analyzer's entry or its sections");
      } else if (from_ !== to_ && !(to === ANALYSIS_CONTRACT && from_ !== undefined)) {
        broke(`analysis, release gate and self-healing are separate subsystems (${from_ ?? "unassigned"} -> ${to_ ?? "unassigned"}); they share only ${ANALYSIS_CONTRACT}`);
      }
    }
    if (from.startsWith(RECEIVERS) && to.startsWith(TRACES)) broke("receivers hand spans to the port beside collector/ingest.ts, never to collector/traces/");
    if (from.startsWith(TRACES) && to.startsWith(RECEIVERS)) broke("trace handling sits behind the span ingest port and knows no receiver; collector/collector.ts puts them together");
  }
  return violations;
}

export function repositoryRoot(): string {
  return relative(process.cwd(), join(import.meta.dirname, "..", "..")) || ".";
}
