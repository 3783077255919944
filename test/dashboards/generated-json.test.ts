import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { allDashboards, renderDashboard } from "../../dashboards/src/all-dashboards.ts";
import { DASHBOARD_UID } from "../../dashboards/src/links.ts";

/**
 * The committed dashboards: they match their source (drift), they type-check as Grafana's own dashboard
 * model (@grafana/schema's Dashboard, with excess-property checks, through the TypeScript compiler), and
 * their references hold (data source variables, template variables, links, panel layout).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const generatedDir = join(root, "dashboards/generated");
const committed = new Map(readdirSync(generatedDir).filter((file) => file.endsWith(".json")).map((file) => [file, readFileSync(join(generatedDir, file), "utf8")]));

/**
 * Grafana's Dashboard with one widening: a data source annotation's target is that plugin's query, which
 * extends DataQuery with the plugin's own fields (Grafana's own panel targets are typed that way too).
 */
const SCHEMA_PRELUDE = `import type { AnnotationQuery, DataQuery, Dashboard as GrafanaDashboard } from "@grafana/schema";
type PluginAnnotation = Omit<AnnotationQuery, "target"> & { target?: DataQuery & Record<string, unknown> };
type Dashboard = Omit<GrafanaDashboard, "annotations"> & { annotations?: { list?: PluginAnnotation[] } };
`;

describe("generated dashboards", () => {
  it("are exactly what `npm run dashboards` writes from dashboards/src (run it after changing the source)", () => {
    const fresh = allDashboards();
    assert.deepEqual([...committed.keys()].sort(), fresh.map((d) => d.file).sort(), "generated files");
    for (const { file, dashboard } of fresh) assert.equal(committed.get(file), renderDashboard(dashboard), `dashboards/generated/${file} drifted`);
  });

  it("type-check as @grafana/schema Dashboard objects", () => {
    // One virtual module per dashboard: `const d: Dashboard = <json>` makes the compiler check every
    // property against Grafana's schema, unknown ones included (excess property check on literals).
    const sources = new Map([...committed].map(([file, json]) => [join(root, `test/dashboards/__schema_check_${file}.ts`), `${SCHEMA_PRELUDE}export const dashboard: Dashboard = ${json};\n`]));
    const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (name) => sources.get(name) ?? readFile(name);
    host.fileExists = (name) => sources.has(name) || fileExists(name);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, language) => {
      const text = sources.get(name);
      return text === undefined ? getSourceFile(name, language) : ts.createSourceFile(name, text, language);
    };
    const program = ts.createProgram([...sources.keys()], options, host);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    assert.deepEqual(problems, []);
  });

  for (const [file, json] of committed) {
    it(`${file}: references, layout and links hold`, () => {
      const built = JSON.parse(json) as {
        uid: string;
        tags: string[];
        panels: { id: number; type: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string } }[];
        templating: { list: { name: string; type: string }[] };
      };
      assert.ok(Object.values(DASHBOARD_UID).includes(built.uid as never), `uid ${built.uid}`);
      assert.ok(built.tags.includes("meshsight"));
      const variables = new Set(built.templating.list.map((v) => v.name));
      const builtIns = new Set(["__from", "__to", "__value", "__data", "__url_time_range", "__rate_interval", "__interval"]);
      for (const match of json.matchAll(/\$\{(\w+)(?:[.:][\w.]+)?\}|\$(?!__)([a-z]\w*)/g)) {
        const name = match[1] ?? match[2]!;
        assert.ok(variables.has(name) || builtIns.has(name), `${file}: \${${name}} is not a variable of the dashboard`);
      }
      for (const panel of built.panels) {
        if (panel.datasource) assert.match(panel.datasource.uid, /^\$\{ds_\w+\}$/, `${file} panel ${panel.id}: data source through a variable`);
        assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${file} panel ${panel.id} fits the 24-column grid`);
      }
      assert.equal(new Set(built.panels.map((p) => p.id)).size, built.panels.length, "unique panel ids");
      for (const [, uid] of json.matchAll(/\/d\/([\w-]+)\?/g)) assert.ok(Object.values(DASHBOARD_UID).includes(uid as never), `${file} links to unknown dashboard ${uid}`);
    });
  }
});
