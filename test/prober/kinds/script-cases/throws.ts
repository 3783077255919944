import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "throws",
  run(ctx) {
    ctx.log("about to break");
    throw new RangeError("the fixture is broken on purpose");
  },
});
