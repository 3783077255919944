import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "loops-forever",
  run(ctx) {
    ctx.log("spinning");
    // A synchronous endless loop: the thread never returns to its event loop, so only terminate() stops it.
    for (let spins = 0; ; spins += 1) if (spins < 0) return;
  },
});
