import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { waitForValue } from "../support/wait-for.ts";
import { runCli } from "./cli-process.ts";

/** A port nothing listens on: bound once to learn a free number, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

test("simulate plays into MESHSIGHT_ALS_PORT by default and stops with one clear line when nothing listens", async () => {
  const port = await closedPort();
  const run = runCli(["simulate", "--duration", "1"], { MESHSIGHT_ALS_PORT: String(port) });
  // From the moment it starts playing: the process's own start-up varies with the machine's load.
  const playingSinceMs = await waitForValue(() => (run.stdoutLines().length > 0 ? Date.now() : undefined), "simulate to start playing", 60_000);
  const code = await run.exited();
  const elapsedMs = Date.now() - playingSinceMs;
  assert.equal(code, 1);
  assert.match(run.stdoutLines()[0] ?? "", new RegExp(`^simulating bookinfo into 127\\.0\\.0\\.1:${port} `));
  assert.match(run.stderr(), new RegExp(`nothing accepts ALS streams at 127\\.0\\.0\\.1:${port}.*MESHSIGHT_ALS_PORT`));
  assert.doesNotMatch(run.stderr(), /\n\s+at /, "no stack trace");
  // Five seconds of connect timeout, and the exit.
  assert.ok(elapsedMs < 7_000, `exited ${elapsedMs} ms after it started playing`);
});
