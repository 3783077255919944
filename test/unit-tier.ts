/**
 * The unit tier in one process: each file is imported inside its own suite, so its top-level tests and hooks
 * stay its own, while the modules they share (and tsx's transform of them) load once instead of once per file.
 */
import { describe } from "node:test";
import { pathToFileURL } from "node:url";

for (const file of process.argv.slice(2)) {
  void describe(file, async () => {
    await import(pathToFileURL(file).href);
  });
}
