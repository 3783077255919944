/**
 * A user regex cannot freeze the process (core/regex/user-regex.ts): patterns that backtrack
 * catastrophically on V8 return within 100 ms on inputs that would take V8 hours, through every place
 * users give patterns: probe assertions, alarm-rule name filters, silence matchers. And a pattern whose
 * linear matching is still costly (a large program against a megabyte body) runs off the event loop
 * under a time limit (core/regex/bounded-match.ts).
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import { SilenceBook } from "../../analyzer/alerts/silences.ts";
import { parseRuleFile } from "../../analyzer/rules/rule-file.ts";
import { ruleAppliesTo } from "../../analyzer/rules/rule.ts";
import { BoundedRegexMatcher, DEFAULT_BOUNDED_MATCH_LIMITS, RegexTimeLimitError } from "../../core/regex/bounded-match.ts";
import { compileUserRegex, UserRegexError } from "../../core/regex/user-regex.ts";
import { dnsKind } from "../../prober/kinds/dns-kind.ts";
import { httpKind } from "../../prober/kinds/http/http-kind.ts";
import { tcpKind } from "../../prober/kinds/tcp-kind.ts";
import { contextWithTimeout, listen } from "../prober/kinds/support/servers.ts";

const LIMIT_MS = 100;

/** Runs `work` and returns its result with the time it took. */
function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

/** Classic ReDoS patterns with inputs that make a backtracking engine explore exponentially many paths. */
const PATHOLOGICAL: ReadonlyArray<[string, string]> = [
  ["(a+)+$", "a".repeat(30)],
  ["(a+)+$", `${"a".repeat(30)}!`],
  ["(a|a)*b", "a".repeat(40)],
  ["(a|aa)+$", `${"a".repeat(40)}b`],
  ["^(\\w+\\s?)*$", `${"word ".repeat(20)}!`],
  ["(.*a){20}", "a".repeat(60)],
  ["^(([a-z])+.)+[A-Z]([a-z])+$", `${"a".repeat(40)}!`],
];

describe("user regexes run in linear time", () => {
  it("answers the classic catastrophic patterns within 100 ms, on short and on 100 kB inputs", () => {
    for (const [pattern, input] of PATHOLOGICAL) {
      const regex = compileUserRegex(pattern);
      for (const text of [input, input.repeat(Math.ceil(100_000 / input.length))]) {
        const { ms } = timed(() => regex.test(text));
        assert.ok(ms < LIMIT_MS, `${pattern} on ${text.length} characters took ${ms.toFixed(1)} ms`);
      }
    }
    assert.equal(compileUserRegex("(a+)+$").test("a".repeat(30)), true);
    assert.equal(compileUserRegex("(a+)+$").test(`${"a".repeat(30)}!`), false);
  });

  it("refuses what cannot run in linear time, saying why, and reports syntax errors", () => {
    for (const pattern of ["(?=a)b", "a(?!b)", "(?<=a)b", "(?<!a)b", "(a)\\1", "(?<x>a)\\k<x>"]) {
      assert.throws(() => compileUserRegex(pattern), (error: unknown) => error instanceof UserRegexError && /lookarounds .* and backreferences .* are not supported/.test(error.message), pattern);
    }
    assert.throws(() => compileUserRegex("(("), /not a valid regular expression \(RE2 syntax\)/);
    assert.throws(() => compileUserRegex("x".repeat(5_000)), /more than 4096/);
    assert.throws(() => compileUserRegex("[^a]{1000}b"), /compiles to \d+ instructions, more than 1000: use smaller counted repetitions/);
  });

  it("anchors without letting the pattern escape the group; source reads as the pattern matched", () => {
    const anchored = compileUserRegex("reviews|ratings", { isAnchored: true });
    assert.equal(anchored.test("ratings"), true);
    assert.equal(anchored.test("ratings-v2"), false);
    assert.equal(anchored.source, "^(?:reviews|ratings)$");
    assert.equal(compileUserRegex("reviews|ratings").source, "reviews|ratings");
    assert.throws(() => compileUserRegex("a)|(b", { isAnchored: true }), UserRegexError);
  });

  it("keeps alarm-rule name filters and silence matchers fast on a pathological pattern", () => {
    const { rules } = parseRuleFile(
      `rules:
  - name: slow
    expression: sla < 99
    include-names-regex: "(a+)+$"
`,
      "rules.yaml",
    );
    const rule = rules[0];
    assert.ok(rule);
    const entity = `${"a".repeat(5_000)}!`;
    const applies = timed(() => ruleAppliesTo(rule, entity));
    assert.equal(applies.value, false);
    assert.ok(applies.ms < LIMIT_MS, `rule filter took ${applies.ms.toFixed(1)} ms`);

    const book = new SilenceBook(10);
    book.add({ matchers: [{ name: "service", value: "(a|aa)+", isRegex: true }], endsAtMs: 10_000, createdBy: "test", comment: "" }, 0);
    const muted = timed(() => book.matching({ service: `${"a".repeat(5_000)}b` }, 1));
    assert.deepEqual(muted.value, []);
    assert.ok(muted.ms < LIMIT_MS, `silence matching took ${muted.ms.toFixed(1)} ms`);
  });

  it("refuses a lookaround in probe specs and rule files, naming the field", () => {
    assert.throws(() => httpKind.parseSpec({ bodyRegex: "(?=UP)" }), /^InvalidProbeSpecError: bodyRegex: .*lookarounds/);
    assert.throws(() => tcpKind.parseSpec({ expect: "(a)\\1" }), /^InvalidProbeSpecError: expect: .*backreferences/);
    assert.throws(() => dnsKind.parseSpec({ expectedAnswers: ["/(?!10\\.)/"] }), /^InvalidProbeSpecError: expectedAnswers\.0: .*lookarounds/);
    assert.throws(() => parseRuleFile("rules:\n  - name: a\n    expression: sla < 1\n    exclude-names-regex: '(?<!x)y'\n", "rules.yaml"), /rules\.yaml:4: .*lookarounds/);
  });
});

describe("a probe with a pathological bodyRegex", () => {
  let server: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    server = await listen((_request, response) => void response.end(`${"a".repeat(30)}!`));
  });

  after(async () => {
    await server.close();
  });

  it("fails on the body at once instead of holding the event loop", async () => {
    const spec = httpKind.parseSpec({ bodyRegex: "(a+)+$" });
    const outcome = await httpKind.run(spec, `${server.origin}/`, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /^body does not match bodyRegex \/\(a\+\)\+\$\//);
    assert.ok(outcome.phases.total! < 1_000, `the run took ${outcome.phases.total} ms`);
    const matching = timed(() => spec.bodyRegex?.test(`${"a".repeat(30)}!`));
    assert.ok(matching.ms < LIMIT_MS, `matching took ${matching.ms.toFixed(1)} ms`);
  });
});

/** A pattern of ~1,000 RE2 instructions (the most allowed): linear, tens of milliseconds against 8 MiB. */
const COSTLY = "(?:b?){330}b{330}c";
const LARGE_BODY = `${"b".repeat(8 * 1024 * 1024)}c`;

describe("costly matches stay off the event loop", () => {
  // A 1 ms limit: re2js needs tens of milliseconds for 8 MiB on any machine here, so the limit always ends
  // such a match, and the test does not depend on how fast the machine is.
  const matcher = new BoundedRegexMatcher({ ...DEFAULT_BOUNDED_MATCH_LIMITS, baseMs: 1, msPerMiB: 0 });
  const stopped = (error: unknown): boolean => error instanceof RegexTimeLimitError && /longer than 1 ms on 8388609 characters/.test(error.message);

  after(() => matcher.close());

  it("stops a large match at its time limit, which only fires while the match runs off the event loop, and the next on a new helper thread", async () => {
    // Matched on the calling thread, the limit's timer could fire only after the match had answered true.
    await assert.rejects(matcher.test(compileUserRegex(COSTLY), LARGE_BODY), stopped);
    // The stopped helper thread was ended: without a new one this match would wait for ever.
    await assert.rejects(matcher.test(compileUserRegex(COSTLY), LARGE_BODY), stopped);
    const costly = compileUserRegex(COSTLY);
    // Matched on the calling thread, the answer is ready before the next turn of the event loop; a helper
    // thread's answer could only come in a later one.
    const short = matcher.test(costly, `${"b".repeat(60)}c`);
    const first = await Promise.race([short.then(() => "match"), new Promise<string>((resolve) => setImmediate(() => resolve("next turn")))]);
    assert.equal(first, "match", "a short input is matched on the calling thread at once");
    assert.equal(await short, false, "b{330} needs 330 b's");
  });

  it("ends an http run whose bodyRegex is too costly for the body as an error of the case", async () => {
    const server = await listen((_request, response) => void response.end(LARGE_BODY));
    try {
      const outcome = await httpKind.run(httpKind.parseSpec({ bodyRegex: COSTLY, maxBodyBytes: 16 * 1024 * 1024 }), `${server.origin}/`, contextWithTimeout(10_000, { patterns: matcher }));
      assert.equal(outcome.status, "error");
      assert.match(outcome.message, /^bodyRegex \/.*\/ was stopped: the match took longer than 1 ms on 8388609 characters; simplify the pattern or lower maxBodyBytes$/);
    } finally {
      await server.close();
    }
  });
});
