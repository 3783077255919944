import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Component } from "../../core/lifecycle.ts";
import { cannotListen } from "../../core/net/listen-failure.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { admissionResponse, allowListedBecause, GUARDED_DELETES, MalformedReviewError, parseAdmissionReview, type AdmissionRequest, type AdmissionVerdict, type AllowList } from "./admission-review.ts";
import type { GuardDecision, GuardedOperation, RiskGuard } from "./risk-guard.ts";

export const ADMISSION_PATH = "/validate";
/** A DELETE review carries the whole old object; a large ConfigMap-sized pod spec fits well under this. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface AdmissionServerOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  allow: AllowList;
  nodePoolLabel: string;
  guard: RiskGuard;
  rejects: RejectCounter;
  logger: Logger;
}

/**
 * The risk guard as a Kubernetes validating admission webhook: the API server POSTs an AdmissionReview for
 * every DELETE of a pod, service, node or namespace (deploy/admission/), and the same token buckets that
 * limit meshsight's own actions answer for every client. Served over HTTPS with the configured certificate,
 * as the API server requires. Malformed input gets a clear error and a counted reject, never a crash.
 */
export class AdmissionServer implements Component {
  readonly name = "guard.admission";
  private server: Server | undefined;

  constructor(private readonly options: AdmissionServerOptions) {}

  /** The bound port (useful with port 0). */
  port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const [cert, key] = await Promise.all([readFile(this.options.certFile), readFile(this.options.keyFile)]);
    const { host, port } = this.options;
    const server = createServer({ cert, key }, (request, response) => void this.handle(request, response));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
      });
    } catch (error) {
      throw cannotListen(host, port, error);
    }
    this.server = server;
    // The line every listener writes, so the console and scripts find the webhook as they find the others.
    this.options.logger.info({ component: this.name, host, port: this.port(), url: `https://${host}:${this.port()}${ADMISSION_PATH}` }, "listening");
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    try {
      if (request.method !== "POST" || request.url?.split("?", 1)[0] !== ADMISSION_PATH) return send(404, { message: `the admission webhook answers POST ${ADMISSION_PATH}` });
      const body = await readBody(request);
      if (body === undefined) return this.malformed(send, new MalformedReviewError(`the review is larger than ${MAX_BODY_BYTES} bytes`, undefined));
      let review: AdmissionRequest;
      try {
        review = parseAdmissionReview(JSON.parse(body.toString("utf8")) as unknown);
      } catch (error) {
        if (error instanceof SyntaxError) return this.malformed(send, new MalformedReviewError(`the body is not JSON: ${error.message}`, undefined));
        if (error instanceof MalformedReviewError) return this.malformed(send, error);
        throw error;
      }
      send(200, admissionResponse(review.uid, await this.verdictFor(review)));
    } catch (error) {
      this.options.logger.error({ component: "guard.admission", err: error }, "admission review failed");
      if (!response.headersSent) send(500, { message: "meshsight risk guard: internal error; see the meshsight log" });
    }
  }

  /** With a uid the API server still gets a review it can read (denied, with the reason); without one, a plain 400. */
  private malformed(send: (status: number, body: unknown) => void, error: MalformedReviewError): void {
    this.options.rejects.reject("admission", "malformed_review", 1, error.message);
    const message = `meshsight risk guard: malformed AdmissionReview: ${error.message}`;
    if (error.uid !== undefined) send(200, admissionResponse(error.uid, { isAllowed: false, code: 400, message }));
    else send(400, { message });
  }

  private async verdictFor(review: AdmissionRequest): Promise<AdmissionVerdict> {
    const kind = GUARDED_DELETES[review.resource];
    if (review.operation !== "DELETE" || kind === undefined) return { isAllowed: true };
    const operation: GuardedOperation = {
      kind,
      scopes: scopesOf(review, this.options.nodePoolLabel),
      target: review.namespace === "" ? `${review.resource}/${review.name}` : `${review.resource}/${review.namespace}/${review.name}`,
      who: review.username,
      via: "admission",
      evidence: { uid: review.uid, groups: review.groups, isDryRun: review.isDryRun },
    };
    const allowListed = allowListedBecause(review, this.options.allow);
    if (allowListed !== undefined) {
      await this.options.guard.pass(operation, allowListed);
      return { isAllowed: true };
    }
    // A dry-run delete changes nothing, so it is judged without spending tokens.
    const decision = review.isDryRun ? await this.options.guard.wouldAdmit(operation) : await this.options.guard.admit(operation);
    return verdictOf(decision, review);
  }
}

function verdictOf(decision: GuardDecision, review: AdmissionRequest): AdmissionVerdict {
  if (decision.isAllowed) return { isAllowed: true };
  const what = `DELETE ${review.resource} ${review.namespace === "" ? review.name : `${review.namespace}/${review.name}`}`;
  return {
    isAllowed: false,
    // 429 tells kubectl users "too many, slow down"; a trip or a brake is a standing refusal (403).
    code: decision.rule === "tokens" || decision.rule === "blast-radius" ? 429 : 403,
    message: `meshsight risk guard denied ${what} by ${review.username}: ${decision.message}. Ask an operator to check and reset the guard (POST /api/v1/guard/reset), or use an allow-listed account.`,
  };
}

function scopesOf(review: AdmissionRequest, nodePoolLabel: string): string[] {
  if (review.resource === "nodes") return [`pool/${review.oldLabels[nodePoolLabel] ?? "default"}`, "cluster"];
  return review.namespace === "" ? ["cluster"] : [`namespace/${review.namespace}`, "cluster"];
}

/** The body, or undefined past the limit (the rest is drained, not buffered). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let isTooLarge = false;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) isTooLarge = true;
    else chunks.push(buffer);
  }
  return isTooLarge ? undefined : Buffer.concat(chunks);
}
