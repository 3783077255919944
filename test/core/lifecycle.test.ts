import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { backingServiceComponent, Lifecycle, shutdownOnSignals, StartupError, type Component } from "../../core/lifecycle.ts";
import { createLogger } from "../../core/telemetry/logger.ts";

const logger = createLogger({ level: "silent" });

function recorded(name: string, events: string[], behaviour: { failStart?: boolean; stop?: () => Promise<void> } = {}): Component {
  return {
    name,
    async start() {
      events.push(`start ${name}`);
      if (behaviour.failStart) throw new Error(`${name} broke`);
    },
    async stop() {
      events.push(`stop ${name}`);
      await behaviour.stop?.();
    },
  };
}

void describe("Lifecycle", () => {
  void it("starts in order and stops in reverse", async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle({ components: ["storage", "queue", "http"].map((name) => recorded(name, events)), logger, stopTimeoutMs: 1_000 });
    await lifecycle.start();
    assert.equal(await lifecycle.stop(), true);
    assert.deepEqual(events, ["start storage", "start queue", "start http", "stop http", "stop queue", "stop storage"]);
    assert.equal(await lifecycle.stop(), true, "stop is idempotent");
    assert.equal(events.length, 6, "nothing stops twice");
  });

  void it("stops what already started when a start fails, and surfaces one error", async () => {
    const events: string[] = [];
    const components = [recorded("storage", events), recorded("queue", events, { failStart: true }), recorded("http", events)];
    const lifecycle = new Lifecycle({ components, logger, stopTimeoutMs: 1_000 });
    await assert.rejects(lifecycle.start(), (error: unknown) => {
      assert.ok(error instanceof StartupError);
      assert.equal(error.component, "queue");
      assert.equal(error.message, "queue failed to start: queue broke");
      return true;
    });
    assert.deepEqual(events, ["start storage", "start queue", "stop storage"]);
  });

  void it("keeps to the stop deadline when a component hangs, and still stops the others", async () => {
    const events: string[] = [];
    const hanging = recorded("receiver", events, { stop: () => new Promise<void>(() => undefined) });
    const lifecycle = new Lifecycle({ components: [recorded("storage", events), hanging], logger, stopTimeoutMs: 100 });
    await lifecycle.start();
    const startedAt = Date.now();
    assert.equal(await lifecycle.stop(), false);
    assert.ok(Date.now() - startedAt < 1_000);
    assert.deepEqual(events.slice(2), ["stop receiver", "stop storage"]);
  });

  void it("starts nothing more once stop was requested during start", async () => {
    const events: string[] = [];
    let releaseSlowStart: () => void = () => undefined;
    const slow: Component = {
      name: "slow",
      start: () => new Promise<void>((resolve) => (releaseSlowStart = resolve)),
      stop: async () => void events.push("stop slow"),
    };
    const lifecycle = new Lifecycle({ components: [slow, recorded("http", events)], logger, stopTimeoutMs: 1_000 });
    const starting = lifecycle.start();
    const stopping = lifecycle.stop();
    releaseSlowStart();
    await starting;
    assert.equal(await stopping, true);
    assert.deepEqual(events, ["stop slow"]);
  });
});

void describe("shutdownOnSignals", () => {
  void it("shuts down on the first signal and exits 0 when clean", async () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    let shutdowns = 0;
    const exited = new Promise<void>((resolve) => {
      shutdownOnSignals({ source, logger, shutdown: async () => (shutdowns++, true), exit: (code) => (exits.push(code), resolve()) });
    });
    source.emit("SIGTERM");
    await exited;
    assert.equal(shutdowns, 1);
    assert.deepEqual(exits, [0]);
  });

  void it("forces exit 1 on a second signal while shutdown is still running", () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const clock = { nowMs: 1_000 };
    shutdownOnSignals({ source, logger, shutdown: () => new Promise<boolean>(() => undefined), exit: (code) => void exits.push(code), now: () => clock.nowMs });
    source.emit("SIGINT");
    assert.deepEqual(exits, []);
    clock.nowMs += 5_000;
    source.emit("SIGINT");
    assert.deepEqual(exits, [1]);
  });

  void it("ignores the echo of one Ctrl-C (group signal plus npm/tsx forwarding) so the flush completes", () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const clock = { nowMs: 1_000 };
    shutdownOnSignals({ source, logger, shutdown: () => new Promise<boolean>(() => undefined), exit: (code) => void exits.push(code), now: () => clock.nowMs });
    source.emit("SIGINT");
    clock.nowMs += 5;
    source.emit("SIGINT");
    source.emit("SIGTERM");
    assert.deepEqual(exits, []);
  });

  void it("exits 1 when a component failed to stop in time", async () => {
    const source = new EventEmitter();
    const code = await new Promise<number>((resolve) => {
      shutdownOnSignals({ source, logger, shutdown: async () => false, exit: resolve });
      source.emit("SIGTERM");
    });
    assert.equal(code, 1);
  });
});

void describe("backingServiceComponent", () => {
  void it("turns a failed connect into one 'cannot reach' line with the innermost cause, and closes the client", async () => {
    let closed = false;
    const component = backingServiceComponent({
      name: "storage",
      target: "ClickHouse at http://127.0.0.1:1/",
      connect: () => Promise.reject(new Error("ClickHouse is unreachable: wrapped", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") })),
      isReachable: async () => false,
      close: async () => void (closed = true),
      connectTimeoutMs: 1_000,
    });
    await assert.rejects(component.start(), { name: "StartupError", message: "cannot reach ClickHouse at http://127.0.0.1:1/: connect ECONNREFUSED 127.0.0.1:1" });
    assert.ok(closed);
  });

  void it("gives a real reason when the client's error has none of its own: every address refused, an HTML answer, only a code", async () => {
    const failing = (error: Error) =>
      backingServiceComponent({ name: "storage", target: "ClickHouse at http://localhost:1/", connect: () => Promise.reject(error), isReachable: async () => false, close: async () => undefined, connectTimeoutMs: 1_000 });
    const everyAddress = new AggregateError([new Error("connect ECONNREFUSED ::1:1"), new Error("connect ECONNREFUSED 127.0.0.1:1")], "");
    await assert.rejects(failing(new Error("", { cause: everyAddress })).start(), { message: "cannot reach ClickHouse at http://localhost:1/: connect ECONNREFUSED ::1:1; connect ECONNREFUSED 127.0.0.1:1" });
    const page = new Error("<!DOCTYPE HTML>\n<html>\n  <body>\n    <h1>Error response</h1>\n    <p>Error code: 501</p>\n  </body>\n</html>\n");
    await assert.rejects(failing(page).start(), { message: "cannot reach ClickHouse at http://localhost:1/: Error response Error code: 501" });
    await assert.rejects(failing(Object.assign(new Error(""), { code: "ECONNRESET" })).start(), { message: "cannot reach ClickHouse at http://localhost:1/: ECONNRESET" });
  });

  void it("fails when the server never answers the connect or the ping", async () => {
    const silent = backingServiceComponent({
      name: "queue",
      target: "Redis at redis://10.0.0.1:6379",
      connect: () => new Promise<void>(() => undefined),
      isReachable: async () => true,
      close: async () => undefined,
      connectTimeoutMs: 50,
    });
    await assert.rejects(silent.start(), { message: "cannot reach Redis at redis://10.0.0.1:6379: no answer within 50 ms" });
    const deaf = backingServiceComponent({ name: "queue", target: "Redis at x", isReachable: async () => false, close: async () => undefined, connectTimeoutMs: 50 });
    await assert.rejects(deaf.start(), { message: "cannot reach Redis at x: it does not answer a ping" });
  });
});
