import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { defineProbe, isProbeScript, ProbeCheckFailedError } from "../../../prober/sdk/define-probe.ts";
import { createScriptContext, type CheckRecord } from "../../../prober/sdk/script-context.ts";

describe("probe script SDK", () => {
  let server: Server;
  let origin: string;
  const hanging: (() => void)[] = [];

  before(async () => {
    server = createServer((request, response) => {
      if (request.url === "/hang") return void hanging.push(() => response.end());
      response.end(`hello ${request.method}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const release of hanging) release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function context(signal = new AbortController().signal) {
    const logs: string[] = [];
    const checks: CheckRecord[] = [];
    const ctx = createScriptContext({ target: origin, signal, maxLogLineChars: 10, onLog: (line) => logs.push(line), onCheck: (record) => checks.push(record) });
    return { ctx, logs, checks };
  }

  it("defineProbe brands a valid script and refuses a broken one", () => {
    const script = defineProbe({ name: "ok-case", run: () => undefined });
    assert.ok(isProbeScript(script));
    assert.ok(!isProbeScript({ name: "ok-case", run: () => undefined }), "a plain object is not a probe script");
    assert.throws(() => defineProbe({ name: "Bad Name", run: () => undefined }), /name must be lower-case/);
    assert.throws(() => defineProbe({ name: "x" } as unknown as Parameters<typeof defineProbe>[0]), /run must be a function/);
  });

  it("records a passing check with its duration and returns its value", async () => {
    const { ctx, checks } = context();
    const body = await ctx.check("fetch", async () => (await ctx.http(`${origin}/`, { method: "POST" })).text());
    assert.equal(body, "hello POST");
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.name, "fetch");
    assert.equal(checks[0]!.passed, true);
    assert.ok(checks[0]!.durationMs > 0);
  });

  it("records a failing check (reason cut like log lines) and rethrows it as ProbeCheckFailedError", async () => {
    const { ctx, checks } = context();
    await assert.rejects(
      ctx.check("status", () => {
        throw new Error("expected 200, got 503");
      }),
      (error: unknown) => error instanceof ProbeCheckFailedError && error.check === "status" && error.message === 'check "status" failed: expected 2...',
    );
    assert.deepEqual(
      checks.map(({ name, passed, error }) => ({ name, passed, error })),
      [{ name: "status", passed: false, error: "expected 2..." }],
    );
  });

  it("cuts long log lines", () => {
    const { ctx, logs } = context();
    ctx.log("short");
    ctx.log("a line that is far too long");
    assert.deepEqual(logs, ["short", "a line tha..."]);
  });

  it("binds http to the run's signal", async () => {
    const controller = new AbortController();
    const { ctx } = context(controller.signal);
    const pending = ctx.http(`${origin}/hang`);
    controller.abort(new Error("the probe run timed out"));
    await assert.rejects(pending, /the probe run timed out/);
    const own = new AbortController();
    const ownPending = context().ctx.http(`${origin}/hang`, { signal: own.signal });
    own.abort(new Error("caller gave up"));
    await assert.rejects(ownPending, /caller gave up/);
  });
});
