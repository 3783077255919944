import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger, resolveLogFormat } from "../../../core/telemetry/logger.ts";
import { formatTextLine } from "../../../core/telemetry/text-log.ts";

void describe("text log lines", () => {
  void it("show the time of day, the level name, the message and the other fields", () => {
    const line = formatTextLine('{"level":"warn","time":"2026-12-07T14:15:02.738Z","service":"meshsight","component":"als","port":11800,"roles":["a","b"],"msg":"listening"}');
    assert.equal(line, "14:15:02.738 WARN  listening  component=als port=11800 roles=a,b\n");
  });

  void it("quote text with spaces, show an error's message without its stack, and leave out fields the message already says", () => {
    const record = { level: 50, time: "2026-12-07T14:15:02.738Z", msg: "open http://x/", url: "http://x/", reason: "no route", err: { type: "Error", message: "boom", stack: "Error: boom\n    at f (a.ts:1:1)" } };
    assert.equal(formatTextLine(JSON.stringify(record)), '14:15:02.738 ERROR open http://x/  reason="no route" err="boom"\n');
  });

  void it("pass a line that is not JSON unchanged", () => {
    assert.equal(formatTextLine("plain"), "plain\n");
  });

  void it("are what the logger writes in text format; json keeps level names", () => {
    const written: string[] = [];
    const destination = { write: (line: string) => void written.push(line) };
    createLogger({ level: "info", format: "text", destination }).info({ port: 1 }, "listening");
    createLogger({ level: "info", format: "json", destination }).info({ port: 1 }, "listening");
    assert.match(written[0] ?? "", /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening {2}port=1\n$/);
    assert.match(written[1] ?? "", /^\{"level":"info","time":"[^"]+","service":"meshsight","port":1,"msg":"listening"\}\n$/);
  });

  void it("auto means text on a terminal and json elsewhere", () => {
    assert.deepEqual([resolveLogFormat("auto", true), resolveLogFormat("auto", false), resolveLogFormat("json", true), resolveLogFormat("text", false)], ["text", "json", "json", "text"]);
  });
});
