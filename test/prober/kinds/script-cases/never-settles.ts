import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "never-settles",
  async run(ctx) {
    await ctx.check("waits forever", () => new Promise<void>(() => undefined));
  },
});
