import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "fails-check",
  async run(ctx) {
    await ctx.check("reachable", async () => {
      await ctx.http(`${ctx.target}/health`);
    });
    await ctx.check("checkout answers 200", async () => {
      const response = await ctx.http(`${ctx.target}/checkout`);
      if (response.status !== 200) throw new Error(`expected 200, got ${response.status}`);
    });
    ctx.log("never reached");
  },
});
