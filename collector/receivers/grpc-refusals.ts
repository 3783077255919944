import type { ServerInterceptor, StatusObject } from "@grpc/grpc-js";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { grpcApi } from "./grpc-api.ts";

/**
 * The reason a status grpc-js sent on its own stands for, in the words the HTTP receivers use
 * (refused-requests.ts), or undefined for one that refuses no request (a response it failed to write).
 * grpc-js gives a failed inflate the same code as a failed write, so that one is told by grpc-js's text
 * (`decompressMessage` in @grpc/grpc-js's src/server-interceptors.ts; test/reliability/refused-requests.test.ts
 * notices if an upgrade changes it).
 */
function refusalReason(status: StatusObject): string | undefined {
  if (status.code === grpcApi.status.RESOURCE_EXHAUSTED) return "body-too-large";
  if (status.code === grpcApi.status.UNIMPLEMENTED) return "unsupported-content-encoding";
  if (status.code === grpcApi.status.INTERNAL && status.details === "Failed to decompress message") return "malformed-compression";
  return undefined;
}

/**
 * Counts the calls grpc-js refuses on its own, before any handler runs, by `source` in
 * `meshsight_rejected_total`: a message over the server's `grpc.max_receive_message_length`, refused from
 * its 5-byte length prefix (so nothing of it is buffered), or a compressed one that inflates past it (both
 * RESOURCE_EXHAUSTED, counted as `body-too-large` as the HTTP receivers count a body over their limit); a
 * message compressed with an encoding grpc-js lacks (UNIMPLEMENTED, `unsupported-content-encoding`); and
 * one that does not inflate (INTERNAL, `malformed-compression`).
 *
 * grpc-js sends those statuses from its base call, which no interceptor's responder sees
 * (`BaseServerInterceptingCall.handleDataFrame` and `decompressMessage` in @grpc/grpc-js's
 * src/server-interceptors.ts); every status a handler or interceptor sends also ends in that call's
 * `sendStatus`. So the interceptor wraps the base call's `sendStatus`, and counts a status that did not
 * come down the interceptor chain (a handler's own RESOURCE_EXHAUSTED, for overload or too many streams,
 * is counted where it is decided). It must come first in the server's `interceptors`, where the call it
 * gets is the base call.
 */
export function countGrpcJsRefusals(source: string, rejects: RejectCounter): ServerInterceptor {
  return (_method, baseCall) => {
    let isFromChain = false;
    const sendStatus = baseCall.sendStatus.bind(baseCall);
    baseCall.sendStatus = (status: StatusObject) => {
      const reason = isFromChain ? undefined : refusalReason(status);
      if (reason !== undefined) rejects.reject(source, reason, 1, status.details);
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
