import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createScriptKind, DEFAULT_SCRIPT_KIND_OPTIONS } from "../../../prober/kinds/script/script-kind.ts";
import { InvalidProbeSpecError } from "../../../prober/kinds/kind.ts";
import { contextWithTimeout, listen } from "./support/servers.ts";

const casesDir = fileURLToPath(new URL("./script-cases/", import.meta.url));

describe("script probe kind", () => {
  const logged: string[] = [];
  const kind = createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, casesDir, defaultMemoryMb: 32, onLog: (line) => logged.push(line) });
  let server: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    server = await listen((request, response) => {
      if (request.url === "/health") return void response.end("UP");
      response.writeHead(503).end("down");
    });
  });

  after(() => server.close());

  it("passes a case whose checks pass, recording each check as a phase", async () => {
    const outcome = await kind.run(kind.parseSpec({ file: "passes.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(outcome.status, "success", outcome.message);
    assert.deepEqual(Object.keys(outcome.phases).sort(), ["check:body says UP", "check:health answers 200", "total"]);
    assert.deepEqual(outcome.metrics, { script_checks_passed: 2, script_checks_failed: 0 });
    assert.ok(logged.includes(`checked ${server.origin}`));
  });

  it("fails at the failing check with its reason", async () => {
    const outcome = await kind.run(kind.parseSpec({ file: "fails-check.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, 'check "checkout answers 200" failed: expected 200, got 503');
    assert.deepEqual(outcome.metrics, { script_checks_passed: 1, script_checks_failed: 1 });
    assert.ok(!logged.includes("never reached"));
  });

  it("fails a case that throws, naming the error and the last log line", async () => {
    const outcome = await kind.run(kind.parseSpec({ file: "throws.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, "the script threw RangeError: the fixture is broken on purpose; last log: about to break");
  });

  it("kills a case that loops forever at its timeout, and keeps running others", async () => {
    const started = Date.now();
    const outcome = await kind.run(kind.parseSpec({ file: "loops-forever.ts" }), server.origin, contextWithTimeout(1_500));
    assert.equal(outcome.status, "timeout");
    assert.match(outcome.message, /^killed after 1500ms: the script did not finish in time \(an endless loop or an await that never settles\?\); last log: spinning$/);
    assert.ok(Date.now() - started < 5_000, "terminated soon after the deadline");
    const next = await kind.run(kind.parseSpec({ file: "passes.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(next.status, "success", next.message);
  });

  it("kills a case that never settles and names its last finished check", async () => {
    const outcome = await kind.run(kind.parseSpec({ file: "never-settles.ts" }), server.origin, contextWithTimeout(1_500));
    assert.equal(outcome.status, "timeout");
    assert.match(outcome.message, /^killed after 1500ms/);
  });

  it("kills a case that allocates without bound at its memory limit", async () => {
    const outcome = await kind.run(kind.parseSpec({ file: "allocates-forever.ts", memoryLimitMb: 24 }), server.origin, contextWithTimeout(30_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, "killed: the script exceeded its memory limit of 24 MB (memoryLimitMb)");
    assert.ok(process.memoryUsage().heapUsed < 1024 * 1024 * 1024, "the parent's heap is untouched");
  });

  it("reports a case that exits its process", async () => {
    const outcome = await kind.run(kind.parseSpec({ file: "exits.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /^the script's process exited with code 3 before finishing/);
  });

  it("reports a file that is not a probe script as an error", async () => {
    const outcome = await kind.run(kind.parseSpec({ file: "not-a-probe.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(outcome.status, "error");
    assert.match(outcome.message, /not-a-probe\.ts: the case file does not default-export defineProbe\(\{ name, run \}\)$/);
  });

  it("bounds what a chatty case can log, cutting long lines", async () => {
    const chatty = createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, casesDir, maxLogLines: 5, onLog: (line) => lines.push(line) });
    const lines: string[] = [];
    const outcome = await chatty.run(chatty.parseSpec({ file: "chatty.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(outcome.status, "failure");
    assert.deepEqual(lines.map((line) => line.slice(0, 8)), ["line 1 x", "line 2 x", "line 3 x", "line 4 x", "line 5 x"]);
    assert.ok(lines.every((line) => line.length <= 503), "lines are cut at 500 characters");
    assert.match(outcome.message, /^the script threw Error: done talking; last log: line 1000 x+\.\.\.$/);
  });

  it("gives a case only the environment it is configured with", async () => {
    const lines: string[] = [];
    const isolated = createScriptKind({ ...DEFAULT_SCRIPT_KIND_OPTIONS, casesDir, env: { PROBE_REGION: "eu" }, onLog: (line) => lines.push(line) });
    const outcome = await isolated.run(isolated.parseSpec({ file: "reads-env.ts" }), server.origin, contextWithTimeout(10_000));
    assert.equal(outcome.status, "success", outcome.message);
    assert.deepEqual(lines, ["env: PROBE_REGION"]);
  });

  it("stops at the runner's signal before its own deadline", async () => {
    const controller = new AbortController();
    const running = kind.run(kind.parseSpec({ file: "loops-forever.ts" }), server.origin, { ...contextWithTimeout(60_000), signal: controller.signal });
    controller.abort();
    const outcome = await running;
    assert.equal(outcome.status, "timeout");
  });

  it("refuses specs naming the field", () => {
    assert.throws(() => kind.parseSpec({ file: "../../../../cli.ts" }), (error: unknown) => error instanceof InvalidProbeSpecError && /^file: .* is outside the cases directory/.test(error.message));
    assert.throws(() => kind.parseSpec({ file: "missing.ts" }), /^InvalidProbeSpecError: file: .*missing\.ts does not exist$/);
    assert.throws(() => kind.parseSpec({ file: "passes.ts", memoryLimitMb: 100_000 }), /memoryLimitMb: /);
    assert.throws(() => kind.parseSpec({}), /^InvalidProbeSpecError: file: /);
  });
});
