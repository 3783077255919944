#!/usr/bin/env node
// The published entry: registers tsx so the TypeScript sources run as they are, then hands over to cli.ts.
import { register } from "tsx/esm/api";

register();
await import("../cli.ts");
