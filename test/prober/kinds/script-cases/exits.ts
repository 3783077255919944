import { defineProbe } from "../../../../prober/sdk/define-probe.ts";

export default defineProbe({
  name: "exits",
  run() {
    process.exit(3);
  },
});
