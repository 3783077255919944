import type { OutputType } from "../config.ts";
import type { OutputAdapter } from "./adapter.ts";
import { alertmanagerAdapter } from "./alertmanager.ts";
import { dingTalkAdapter } from "./dingtalk.ts";
import { feishuAdapter } from "./feishu.ts";
import { skywalkingAdapter } from "./skywalking.ts";
import { slackAdapter } from "./slack.ts";
import { webhookAdapter } from "./webhook.ts";

export const OUTPUT_ADAPTERS: Readonly<Record<OutputType, OutputAdapter>> = {
  webhook: webhookAdapter,
  skywalking: skywalkingAdapter,
  alertmanager: alertmanagerAdapter,
  slack: slackAdapter,
  dingtalk: dingTalkAdapter,
  feishu: feishuAdapter,
};
