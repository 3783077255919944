import type { DetectPoint } from "./dimensions.ts";

/** Why a raw record was kept: every error and slow call up to a rate limit, plus a uniform sample. */
export type SampleReason = "error" | "slow" | "uniform";

/** A raw access-log record kept for the logs API and as root-cause evidence. */
export interface SampledRecord {
  timeMs: number;
  service: string;
  instance: string;
  endpoint: string;
  detectPoint: DetectPoint;
  /** The peer service (caller for a server-side record, callee for a client-side one). */
  peerService: string;
  responseCode: number;
  responseFlags: string;
  isError: boolean;
  latencyMs: number;
  reason: SampleReason;
  requestId: string;
  traceId: string;
  /** The record as received, JSON, for display; bounded in size by the sampler. */
  raw: string;
}
