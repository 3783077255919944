import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { CompiledScriptCases, ScriptCompileError } from "../../../prober/kinds/script/compiled-cases.ts";
import { createScriptKind, DEFAULT_SCRIPT_KIND_OPTIONS } from "../../../prober/kinds/script/script-kind.ts";
import { contextWithTimeout } from "./support/servers.ts";

const SDK = fileURLToPath(new URL("../../../prober/sdk/define-probe.ts", import.meta.url));
const casesDir = mkdtempSync(join(tmpdir(), "meshsight-script-cache-"));
after(() => rmSync(casesDir, { recursive: true, force: true }));

/** A case that logs what its helper module says and how often its own module state was touched. */
function writeCase(name: string, helperText: string): string {
  writeFileSync(join(casesDir, `${name}-helper.ts`), `export const word: string = ${JSON.stringify(helperText)};\n`);
  writeFileSync(
    join(casesDir, `${name}.ts`),
    [
      `import { defineProbe } from ${JSON.stringify(SDK)};`,
      `import { word } from "./${name}-helper.ts";`,
      "let runsInThisThread = 0;",
      `export default defineProbe({ name: ${JSON.stringify(name)}, run(ctx) { runsInThisThread += 1; ctx.log(\`\${word} \${runsInThisThread}\`); } });`,
      "",
    ].join("\n"),
  );
  return join(casesDir, `${name}.ts`);
}

describe("script cases are compiled once and reused", () => {
  it("compiles a case once for many runs, each run still in a fresh process", async () => {
    const lines: string[] = [];
    const kind = createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, casesDir, onLog: (line) => lines.push(line) });
    writeCase("reused", "hello");
    const spec = kind.parseSpec({ file: "reused.ts" });
    for (let run = 0; run < 3; run += 1) {
      const outcome = await kind.run(spec, "t", contextWithTimeout(10_000));
      assert.equal(outcome.status, "success", outcome.message);
    }
    assert.deepEqual(lines, ["hello 1", "hello 1", "hello 1"], "module state never survives a run: every run has its own process");
  });

  it("returns the cached program while nothing changed, and rebuilds when the case or a helper it imports changes", async () => {
    const programs = new CompiledScriptCases(10);
    const file = writeCase("edited", "first");
    const first = await programs.programFor(file);
    assert.equal(await programs.programFor(file), first, "unchanged files: the same program");
    assert.equal(programs.compilationCount, 1);

    writeFileSync(join(casesDir, "edited-helper.ts"), 'export const word: string = "second";\n');
    const second = await programs.programFor(file);
    assert.notEqual(second, first);
    assert.equal(programs.compilationCount, 2);
    assert.match(second, /"second"/, "the new helper text is in the program");

    const lines: string[] = [];
    const kind = createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, casesDir, onLog: (line) => lines.push(line) });
    writeCase("edited", "third");
    assert.equal((await kind.run(kind.parseSpec({ file: "edited.ts" }), "t", contextWithTimeout(10_000))).status, "success");
    assert.deepEqual(lines, ["third 1"]);
  });

  it("compiles concurrent first runs of one case once, and keeps at most maxEntries programs", async () => {
    const programs = new CompiledScriptCases(2);
    const files = ["lru-a", "lru-b", "lru-c"].map((name) => writeCase(name, name));
    const [one, two] = await Promise.all([programs.programFor(files[0]!), programs.programFor(files[0]!)]);
    assert.equal(one, two);
    assert.equal(programs.compilationCount, 1);
    await programs.programFor(files[1]!);
    await programs.programFor(files[0]!);
    await programs.programFor(files[2]!);
    assert.equal(programs.compilationCount, 3, "a was used last, so b made room for c");
    await programs.programFor(files[0]!);
    assert.equal(programs.compilationCount, 3, "a is still cached");
    await programs.programFor(files[1]!);
    assert.equal(programs.compilationCount, 4, "b was dropped and is compiled again");
  });

  it("reports a case that does not compile as an error run naming the place", async () => {
    writeFileSync(join(casesDir, "broken.ts"), "export default defineProbe({ name: 'broken', run( { }\n");
    const kind = createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, casesDir });
    const outcome = await kind.run(kind.parseSpec({ file: "broken.ts" }), "t", contextWithTimeout(10_000));
    assert.equal(outcome.status, "error");
    assert.match(outcome.message, /broken\.ts does not compile: .*broken\.ts:\d+:\d+: /);
    await assert.rejects(new CompiledScriptCases(1).programFor(join(casesDir, "broken.ts")), ScriptCompileError);
  });
});
