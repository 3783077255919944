import type { ServerInterceptor, StatusObject } from "@grpc/grpc-js";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { grpcApi } from "./grpc-api.ts";

/**
 * Counts the calls grpc-js refuses on its own, before any handler runs, by `source` in
 * `meshsight_rejected_total`: a message over the server's `grpc.max_receive_message_length`, refused from
 * its 5-byte length prefix (so nothing of it is buffered), or a compressed one that inflates past it. Both
 * answer RESOURCE_EXHAUSTED and count as `body-too-large`, the reason the HTTP receivers give a body over
 * their limit (refused-requests.ts).
 *
 * grpc-js sends those statuses from its base call, which no interceptor's responder sees
 * (`BaseServerInterceptingCall.handleDataFrame` and `decompressMessage` in @grpc/grpc-js's
 * src/server-interceptors.ts); every status a handler or interceptor sends also ends in that call's
 * `sendStatus`. So the interceptor wraps the base call's `sendStatus`, and counts a RESOURCE_EXHAUSTED
 * that did not come down the interceptor chain (a handler's own RESOURCE_EXHAUSTED, for overload or too
 * many streams, is counted where it is decided). It must come first in the server's `interceptors`, where
 * the call it gets is the base call.
 */
export function countGrpcJsRefusals(source: string, rejects: RejectCounter): ServerInterceptor {
  return (_method, baseCall) => {
    let isFromChain = false;
    const sendStatus = baseCall.sendStatus.bind(baseCall);
    baseCall.sendStatus = (status: StatusObject) => {
      if (!isFromChain && status.code === grpcApi.status.RESOURCE_EXHAUSTED) rejects.reject(source, "body-too-large", 1, status.details);
      sendStatus(status);
    };
    return new grpcApi.ServerInterceptingCall(baseCall, {
      sendStatus(status, next) {
        isFromChain = true;
        next(status);
      },
    });
  };
}
