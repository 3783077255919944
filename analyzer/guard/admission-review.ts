/**
 * The admission guard's protocol half: reads an `admission.k8s.io/v1` AdmissionReview as the API server
 * sends it and builds the answer. Pure functions, so every shape the API server (or a broken client) can
 * send is tested without a server. https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
 */

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

/** The fields of a review's request the guard uses. */
export interface AdmissionRequest {
  uid: string;
  operation: string;
  /** Plural resource: "pods", "services", "nodes", "namespaces". */
  resource: string;
  name: string;
  /** "" for cluster-scoped resources. */
  namespace: string;
  username: string;
  groups: readonly string[];
  isDryRun: boolean;
  /** The object being deleted (the API server sends it as oldObject on DELETE); its labels name a node's pool. */
  oldLabels: Readonly<Record<string, string>>;
}

export class MalformedReviewError extends Error {
  override readonly name = "MalformedReviewError";
  constructor(
    message: string,
    /** Set when the review had a uid: the answer can then still be an AdmissionReview the API server reads. */
    readonly uid: string | undefined,
  ) {
    super(message);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) throw new MalformedReviewError("expected a JSON AdmissionReview object", undefined);
  const request = body.request;
  const uid = isRecord(request) ? text(request.uid) : undefined;
  const fail = (message: string): never => {
    throw new MalformedReviewError(message, uid !== undefined && uid !== "" ? uid : undefined);
  };
  if (body.kind !== "AdmissionReview") fail(`expected kind AdmissionReview, got ${JSON.stringify(body.kind ?? null)}`);
  if (body.apiVersion !== ADMISSION_API_VERSION) fail(`expected apiVersion ${ADMISSION_API_VERSION}, got ${JSON.stringify(body.apiVersion ?? null)} (set admissionReviewVersions: ["v1"] in the ValidatingWebhookConfiguration)`);
  if (!isRecord(request)) return fail("the review has no request object");
  if (uid === undefined || uid === "") fail("request.uid is missing");
  const operation = text(request.operation);
  if (operation === undefined) fail("request.operation is missing");
  const resource = isRecord(request.resource) ? text(request.resource.resource) : undefined;
  if (resource === undefined) fail("request.resource.resource is missing");
  const userInfo = isRecord(request.userInfo) ? request.userInfo : {};
  const groups = Array.isArray(userInfo.groups) ? userInfo.groups.filter((group): group is string => typeof group === "string") : [];
  const oldObject = isRecord(request.oldObject) ? request.oldObject : {};
  const metadata = isRecord(oldObject.metadata) ? oldObject.metadata : {};
  const labels = isRecord(metadata.labels) ? Object.fromEntries(Object.entries(metadata.labels).filter((entry): entry is [string, string] => typeof entry[1] === "string")) : {};
  return {
    uid: uid ?? "",
    operation: operation ?? "",
    resource: resource ?? "",
    name: text(request.name) ?? "",
    namespace: text(request.namespace) ?? "",
    username: text(userInfo.username) ?? "",
    groups,
    isDryRun: request.dryRun === true,
    oldLabels: labels,
  };
}

export interface AdmissionVerdict {
  isAllowed: boolean;
  /** HTTP-like status code of a denial: 429 for rate limits, 403 for a trip or brake, 400 for a malformed review. */
  code?: number;
  message?: string;
}

export function admissionResponse(uid: string, verdict: AdmissionVerdict): Record<string, unknown> {
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: "AdmissionReview",
    response: {
      uid,
      allowed: verdict.isAllowed,
      ...(verdict.isAllowed ? {} : { status: { code: verdict.code ?? 403, message: verdict.message ?? "denied by the meshsight risk guard" } }),
    },
  };
}

/** Operation kinds the guard counts, by the plural resource a DELETE names; other resources pass untouched. */
export const GUARDED_DELETES: Readonly<Record<string, string>> = {
  pods: "delete-pod",
  services: "delete-service",
  nodes: "delete-node",
  namespaces: "delete-namespace",
};

export interface AllowList {
  users: readonly string[];
  /** "namespace:name", as in the username `system:serviceaccount:namespace:name`. */
  serviceAccounts: readonly string[];
  groups: readonly string[];
}

/** Why the caller skips the guard, or undefined when it does not. */
export function allowListedBecause(request: AdmissionRequest, allow: AllowList): string | undefined {
  if (allow.users.includes(request.username)) return `user ${request.username} is allow-listed`;
  const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(request.username);
  if (serviceAccount && allow.serviceAccounts.includes(`${serviceAccount[1]}:${serviceAccount[2]}`)) return `service account ${serviceAccount[1]}:${serviceAccount[2]} is allow-listed`;
  const group = request.groups.find((name) => allow.groups.includes(name));
  return group === undefined ? undefined : `group ${group} is allow-listed`;
}
