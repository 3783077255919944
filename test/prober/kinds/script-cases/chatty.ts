import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "chatty",
  run(ctx) {
    for (let line = 1; line <= 1_000; line += 1) ctx.log(`line ${line} ${"x".repeat(1_000)}`);
    throw new Error("done talking");
  },
});
