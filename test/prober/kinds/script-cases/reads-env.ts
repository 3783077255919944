import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "reads-env",
  run(ctx) {
    ctx.log(`env: ${Object.keys(process.env).sort().join(",")}`);
  },
});
