/**
 * The collector's config sections: aggregation (`collector`), each receiver's (`receivers`), trace handling.
 * Apart from its entry so that reading the config (every command, --help) loads the schemas only, not the
 * receivers behind them.
 */
import { collectorSection } from "./config.ts";
import { receiversSection } from "./receivers/config.ts";
import { tracesSection } from "./traces/config.ts";

export const collectorSections = { collector: collectorSection, receivers: receiversSection, traces: tracesSection };
