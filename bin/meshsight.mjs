#!/usr/bin/env node
// The published entry: runs the JavaScript that `npm install` (the `prepare` script) built into dist/.
await import("../dist/cli.js");
