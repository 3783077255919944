import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "allocates-forever",
  run() {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array<number>(100_000).fill(1));
  },
});
