import { readFileSync } from "node:fs";
import { defineProbe } from "../../../prober/sdk/define-probe.ts";

/** Looks everywhere the prober's environment could be seen from, and logs what it found. */
export default defineProbe({
  name: "peeks",
  run(ctx) {
    ctx.log(`env: ${JSON.stringify(process.env)}`);
    for (const path of ["/proc/self/environ", `/proc/${process.ppid}/environ`, "/etc/passwd", new URL("./inside.txt", import.meta.url).pathname]) {
      try {
        ctx.log(`read ${path}: ${readFileSync(path, "utf8").replace(/\0/g, " ")}`);
      } catch (error) {
        ctx.log(`cannot read ${path}: ${(error as { code?: string }).code ?? String(error)}`);
      }
    }
  },
});
