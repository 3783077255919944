/**
 * blackbox_exporter's http `fail_if_body_json_matches_cel` / `fail_if_body_json_not_matches_cel` through
 * `GET /probe` (docs/probes.md "Blackbox exporter"), against a real HTTP server on loopback. The tables
 * are blackbox's own (prober/http_test.go TestFailIfBodyMatchesCEL, TestFailIfBodyNotMatchesCEL): the
 * body bound to `body` as JSON, errors and non-bool results failing the probe, probe_failed_due_to_cel.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseBlackboxModules } from "../../../prober/blackbox/module-file.ts";
import { httpKind } from "../../../prober/kinds/http/http-kind.ts";
import { CEL_EVALUATION_LIMIT_MS } from "../../../prober/kinds/http/body-cel.ts";
import { lookup } from "../helpers.ts";
import { contextWithTimeout, listen } from "../kinds/support/servers.ts";
import { startBlackboxApp, startBlackboxHttpFixture, type BlackboxHttpFixture } from "./blackbox-app.ts";
import { sampleValue } from "./prom-text.ts";

/** [response body, expression, probe_success with fail_if_body_json_matches_cel, with fail_if_body_json_not_matches_cel]. */
const CASES: ReadonlyArray<readonly [body: string, expression: string, matches: number, notMatches: number]> = [
  ['{"foo": {"bar": "baz"}}', "body.foo.bar == 'baz'", 0, 1],
  ['{"foo": {"bar": "baz"}}', "body.foo.bar == 'qux'", 1, 0],
  // No such key: an evaluation error, which fails both.
  ["{}", "body.foo.bar == 'qux'", 0, 0],
  // Not a bool: fails both.
  ['{"foo": {"bar": "baz"}}', "body.foo.bar", 0, 0],
  ["hello world", "body.foo.bar == 'baz'", 0, 0],
  ["{}", "!has(body.foo)", 0, 1],
  ['"foo"', "body == 'foo'", 0, 1],
  ['["foo","bar","baz"]', "body[2] == 'baz'", 0, 1],
  ["true", "body", 0, 1],
  ["", "body.foo.bar == 'baz'", 0, 0],
  ["🤠🤠🤠", "body.foo.bar == 'baz'", 0, 0],
  ['{"foo": {"bar": "🤠🤠🤠"}}', "body.foo.bar == '🤠🤠🤠'", 0, 1],
  // JSON numbers are doubles, as Go's json.Unmarshal gives them; CEL compares them with ints.
  ['{"count": 3, "checks": [{"ok": true}, {"ok": true}]}', "body.count == 3 && body.checks.all(c, c.ok)", 0, 1],
  // A key named like an Object property is a key like any other.
  ['{"constructor": "x"}', "body.constructor == 'x'", 0, 1],
];

const moduleYaml = (name: string, http: Record<string, unknown>) => `  ${name}: ${JSON.stringify({ prober: "http", http })}\n`;
const MODULES = `modules:\n${CASES.map(([, expression], index) => moduleYaml(`matches_${index}`, { fail_if_body_json_matches_cel: expression }) + moduleYaml(`not_matches_${index}`, { fail_if_body_json_not_matches_cel: expression })).join("")}${moduleYaml("plain", {})}${moduleYaml("regex_and_cel", { fail_if_body_not_matches_regexp: ["baz"], fail_if_body_json_not_matches_cel: "body.foo.bar == 'baz'" })}${moduleYaml("regex_fails_before_cel", { fail_if_body_matches_regexp: ["baz"], fail_if_body_json_not_matches_cel: "body.foo.bar == 'baz'" })}`;

describe("GET /probe with blackbox CEL body checks", () => {
  const server = createServer((request, response) => {
    const index = Number((request.url ?? "/").slice(1));
    response.end(CASES[index]?.[0] ?? "");
  });
  let fixture: BlackboxHttpFixture;
  const probe = (moduleName: string, path: string) => fixture.probe(moduleName, path);

  before(async () => {
    fixture = await startBlackboxHttpFixture(server, MODULES);
  });

  after(() => fixture.stop());

  it("passes and fails as blackbox's CEL tables say, with probe_failed_due_to_cel and the body lengths", async () => {
    const rows: Array<[string, string, ...Array<number | undefined>]> = [];
    for (const [index, [body, expression]] of CASES.entries()) {
      const matches = await probe(`matches_${index}`, `/${index}`);
      const notMatches = await probe(`not_matches_${index}`, `/${index}`);
      const length = Buffer.byteLength(body);
      assert.deepEqual([sampleValue(matches, "probe_http_content_length"), sampleValue(matches, "probe_http_uncompressed_body_length")], [length, length], expression);
      rows.push([body, expression, sampleValue(matches, "probe_success"), sampleValue(notMatches, "probe_success"), sampleValue(matches, "probe_failed_due_to_cel"), sampleValue(notMatches, "probe_failed_due_to_cel")]);
    }
    assert.deepEqual(rows, CASES.map(([body, expression, matches, notMatches]) => [body, expression, matches, notMatches, 1 - matches, 1 - notMatches]));
  });

  it("shows probe_failed_due_to_cel only for modules with a CEL expression, as blackbox registers it", async () => {
    const plain = await probe("plain", "/0");
    assert.equal(sampleValue(plain, "probe_success"), 1);
    assert.equal(plain.some((sample) => sample.name === "probe_failed_due_to_cel"), false);
  });

  it("runs the CEL check after the body patterns: a failed pattern leaves it at 0; with both, both see the whole body", async () => {
    const failedPattern = await probe("regex_fails_before_cel", "/0");
    assert.deepEqual([sampleValue(failedPattern, "probe_success"), sampleValue(failedPattern, "probe_failed_due_to_regex"), sampleValue(failedPattern, "probe_failed_due_to_cel")], [0, 1, 0]);
    const both = await probe("regex_and_cel", "/0");
    assert.deepEqual([sampleValue(both, "probe_success"), sampleValue(both, "probe_failed_due_to_regex"), sampleValue(both, "probe_failed_due_to_cel")], [1, 0, 0]);
  });
});

describe("CEL expressions in a blackbox modules file", () => {
  it("refuses a file whose expression does not compile (syntax, undeclared names), naming the module and the expression", async () => {
    const file = (expression: string) => `modules:\n${moduleYaml("health", { fail_if_body_json_not_matches_cel: expression })}`;
    assert.throws(() => parseBlackboxModules(file("body.status =="), "f.yml"), /^BlackboxConfigError: f\.yml: module health: http: fail_if_body_json_not_matches_cel: could not compile CEL program "body\.status ==": <input>:1:13: found = but expecting end of input$/);
    assert.throws(() => parseBlackboxModules(file("status == 'UP'"), "f.yml"), /module health: http: fail_if_body_json_not_matches_cel: could not compile CEL program "status == 'UP'": undeclared reference to 'status'$/);
    assert.throws(() => parseBlackboxModules(file("body.items.exists(i, lower(i) == 'x')"), "f.yml"), /undeclared reference to 'lower'$/);
    assert.throws(() => parseBlackboxModules(`modules:\n${moduleYaml("health", { fail_if_body_json_matches_cel: 3 })}`, "f.yml"), /module health: http: fail_if_body_json_matches_cel: expected a CEL expression/);
    assert.equal(parseBlackboxModules(file("body.items.exists(i, i.status == 'UP') && type(body.version) == string"), "f.yml").size, 1, "comprehension variables and type names are declared");
    const path = join(tmpdir(), `meshsight-blackbox-bad-cel-${process.pid}.yml`);
    await writeFile(path, file("body.status =="));
    try {
      await assert.rejects(startBlackboxApp(lookup(httpKind), { blackboxConfigFile: path }), /could not compile CEL program "body\.status =="/);
    } finally {
      await rm(path, { force: true });
    }
  });

  it("fails the CEL check of a body larger than the bytes kept for checking (maxBodyBytes, 1 MiB by default) instead of parsing part of it", async () => {
    const server = await listen((_request, response) => response.end(JSON.stringify({ status: "UP", padding: "x".repeat(100) })));
    try {
      const run = (maxBodyBytes: number) => httpKind.run(httpKind.parseSpec({ failIfBodyJsonNotMatchesCel: "body.status == 'UP'", maxBodyBytes }), `${server.origin}/`, contextWithTimeout(10_000));
      const whole = await run(1_000);
      assert.equal(whole.status, "success", whole.message);
      const cut = await run(50);
      assert.equal(cut.status, "failure");
      assert.match(cut.message, /^the body is larger than the 50 bytes kept \(maxBodyBytes\), so CEL "body\.status == 'UP'" cannot be evaluated on its JSON/);
      assert.equal(cut.metrics.failed_due_to_cel, 1);
    } finally {
      await server.close();
    }
  });

  it(`stops an evaluation that runs longer than ${CEL_EVALUATION_LIMIT_MS} ms over an untrusted body, failing the probe`, async () => {
    const body = JSON.stringify({ items: new Array(5_000).fill(0) });
    const server = await listen((_request, response) => response.end(body));
    try {
      const spec = httpKind.parseSpec({ failIfBodyJsonNotMatchesCel: "body.items.all(x, body.items.all(y, x == y))" });
      const outcome = await httpKind.run(spec, `${server.origin}/`, contextWithTimeout(30_000));
      assert.equal(outcome.status, "failure");
      assert.match(outcome.message, new RegExp(`^evaluating CEL "body\\.items\\.all\\(x, body\\.items\\.all\\(y, x == y\\)\\)" was stopped after ${CEL_EVALUATION_LIMIT_MS} ms`));
      assert.equal(outcome.metrics.failed_due_to_cel, 1);
    } finally {
      await server.close();
    }
  });
});
