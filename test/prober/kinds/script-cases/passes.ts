import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "passes",
  async run(ctx) {
    const body = await ctx.check("health answers 200", async () => {
      const response = await ctx.http(`${ctx.target}/health`);
      if (response.status !== 200) throw new Error(`expected 200, got ${response.status}`);
      return response.text();
    });
    await ctx.check("body says UP", () => {
      if (!body.includes("UP")) throw new Error(`body is ${body}`);
    });
    ctx.log(`checked ${ctx.target}`);
  },
});
