import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ANALYZER_SUBSYSTEMS, COMPONENT_ENTRIES, COMPONENT_SECTIONS, importsOf, importsOfTree, importViolations, repositoryRoot, sourceFiles, subsystemOf } from "./import-rules.ts";

const root = repositoryRoot();

describe("import rules (docs/architecture.md)", () => {
  it("hold for the whole tree", () => {
    assert.deepEqual(importViolations(importsOfTree(root)), []);
  });

  it("know every component entry and analyzer subsystem entry as a file of the tree", () => {
    const files = new Set(sourceFiles(root));
    for (const entry of [...Object.values(COMPONENT_ENTRIES), ...Object.values(COMPONENT_SECTIONS), ...Object.values(ANALYZER_SUBSYSTEMS).map((subsystem) => subsystem.entry)]) assert.ok(files.has(entry), entry);
  });

  it("place every analyzer file in exactly one subsystem (or the analyzer's entry or sections)", () => {
    const unplaced = sourceFiles(root).filter((file) => file.startsWith("analyzer/") && file !== COMPONENT_ENTRIES.analyzer && file !== COMPONENT_SECTIONS.analyzer && subsystemOf(file) === undefined);
    assert.deepEqual(unplaced, []);
  });

  it("see static imports, re-exports, type imports and dynamic imports", () => {
    const source = [
      'import { a } from "./a.ts";',
      'import type { B } from "../core/b.ts";',
      'export { c } from "./c/c.ts";',
      'const d = await import("./d.ts");',
      'import { e } from "fastify";',
    ].join("\n");
    assert.deepEqual(
      importsOf("collector/x.ts", source).map((edge) => edge.to),
      ["collector/a.ts", "core/b.ts", "collector/c/c.ts", "collector/d.ts"],
    );
  });

  it("refuse the composition root reaching into a component's internals", () => {
    const violations = importViolations(importsOf("cli.ts", 'import { apiTokensOf } from "./analyzer/gate/config.ts";\nimport { createProber } from "./prober/prober.ts";'));
    assert.equal(violations.length, 1);
    assert.match(violations[0] ?? "", /^cli\.ts imports analyzer\/gate\/config\.ts: the composition root imports only core and each component's entry/);
  });

  it("refuse a component importing another, and core importing a component", () => {
    const violations = importViolations([
      ...importsOf("prober/case.ts", 'import { x } from "../collector/collector.ts";'),
      ...importsOf("core/http/auth.ts", 'import type { GateConfig } from "../../analyzer/gate/config.ts";'),
      ...importsOf("dashboards/src/x.ts", 'import { y } from "../../cli-sections.ts";'),
    ]);
    assert.equal(violations.length, 3);
    assert.match(violations[0] ?? "", /never another component \(prober -> collector\)/);
    assert.match(violations[1] ?? "", /core imports no component/);
    assert.match(violations[2] ?? "", /nothing imports the composition root/);
  });

  it("refuse a receiver importing the trace handling behind the span port", () => {
    const violations = importViolations(importsOf("collector/receivers/otlp/otlp-http-routes.ts", 'import type { SpanIngest } from "../../traces/span-ingest.ts";\nimport type { SpanIngestPort } from "../../ingest.ts";'));
    assert.equal(violations.length, 1);
    assert.match(violations[0] ?? "", /receivers hand spans to the port beside collector\/ingest\.ts/);
  });

  it("refuse the trace handling importing a receiver", () => {
    const violations = importViolations(importsOf("collector/traces/trace-components.ts", 'import { OtlpGrpcReceiver } from "../receivers/otlp/otlp-grpc-receiver.ts";\nimport type { TracesConfig } from "./config.ts";'));
    assert.equal(violations.length, 1);
    assert.match(violations[0] ?? "", /trace handling sits behind the span ingest port and knows no receiver/);
  });

  it("refuse one analyzer subsystem reaching into another, and the analyzer's entry skipping a subsystem's entry", () => {
    const violations = importViolations([
      ...importsOf("analyzer/gate/gate-evaluator.ts", 'import { AlertBook } from "../alerts/alert-book.ts";'),
      ...importsOf("analyzer/guard/guard-alerts.ts", 'import type { AlertDispatcher } from "../alerts/notification.ts";'),
      ...importsOf("analyzer/analyzer.ts", 'import { GateCatalog } from "./gate/gate-catalog.ts";\nimport { createGates } from "./gate/gates.ts";'),
      ...importsOf("analyzer/sections.ts", 'import { gateSection } from "./gate/config.ts";\nimport { createGates } from "./gate/gates.ts";'),
    ]);
    assert.equal(violations.length, 3);
    assert.match(violations[0] ?? "", /separate subsystems \(release gate -> analysis\)/);
    assert.match(violations[1] ?? "", /through their entries only/);
    assert.match(violations[2] ?? "", /^analyzer\/sections\.ts imports analyzer\/gate\/gates\.ts: .*only the subsystems' config\.ts files/);
  });
});
