/**
 * Offline shape check of Kubernetes objects against the API's own models: `@kubernetes/client-node`'s
 * generated classes (OpenAPI v1.34) carry every field's name and type, so an unknown field (a typo), a wrong
 * type or a misplaced block is found without a cluster. The generated models do not keep the OpenAPI
 * `required` lists, so the required fields of the types meshsight's manifests use are listed here once.
 */
import * as kubernetes from "@kubernetes/client-node";

interface AttributeType {
  baseName: string;
  type: string;
}

interface ModelClass {
  getAttributeTypeMap(): AttributeType[];
}

/** Built-in API groups whose objects have a `V<version><Kind>` model. */
const BUILT_IN_GROUPS = new Set(["", "apps", "policy", "rbac.authorization.k8s.io", "admissionregistration.k8s.io", "discovery.k8s.io", "batch", "autoscaling", "networking.k8s.io"]);

/** From the Kubernetes OpenAPI `required` lists. */
const REQUIRED_FIELDS: Record<string, readonly string[]> = {
  V1DeploymentSpec: ["selector", "template"],
  V1StatefulSetSpec: ["selector", "template"],
  V1PodSpec: ["containers"],
  V1Container: ["name"],
  V1ContainerPort: ["containerPort"],
  V1EnvVar: ["name"],
  V1Volume: ["name"],
  V1VolumeMount: ["name", "mountPath"],
  V1KeyToPath: ["key", "path"],
  V1HTTPGetAction: ["port"],
  V1TCPSocketAction: ["port"],
  V1ServicePort: ["port"],
  V1PolicyRule: ["verbs"],
  V1ClusterRoleBinding: ["roleRef"],
  V1RoleBinding: ["roleRef"],
  V1RoleRef: ["apiGroup", "kind", "name"],
  RbacV1Subject: ["kind", "name"],
  V1SecretKeySelector: ["key"],
  V1ConfigMapKeySelector: ["key"],
  V1ValidatingWebhook: ["name", "clientConfig", "sideEffects", "admissionReviewVersions"],
  AdmissionregistrationV1ServiceReference: ["namespace", "name"],
  V1TopologySpreadConstraint: ["maxSkew", "topologyKey", "whenUnsatisfiable"],
};

const PRIMITIVE_CHECKS: Record<string, (value: unknown) => boolean> = {
  string: (value) => typeof value === "string",
  number: (value) => typeof value === "number",
  boolean: (value) => typeof value === "boolean",
  // RFC 3339 in YAML arrives as text.
  Date: (value) => typeof value === "string",
  IntOrString: (value) => typeof value === "string" || (typeof value === "number" && Number.isInteger(value)),
  any: () => true,
};

const MAP_TYPE = /^\{ \[key: string\]: (.+); \}$/;
const ARRAY_TYPE = /^Array<(.+)>$/;

function modelClass(name: string): ModelClass | undefined {
  const candidate = (kubernetes as Record<string, unknown>)[name];
  if (typeof candidate !== "function" || !("getAttributeTypeMap" in candidate)) return undefined;
  return candidate as unknown as ModelClass;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The model class name of a built-in object, such as `V1Deployment` for apps/v1 Deployment; undefined for other groups. */
export function builtInModelName(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  if (group === undefined || version === undefined || !BUILT_IN_GROUPS.has(group)) return undefined;
  return `${version[0]?.toUpperCase() ?? ""}${version.slice(1)}${kind}`;
}

/** Every problem of `value` as an instance of the model type `type`, each prefixed with its path. */
export function checkAgainstModel(value: unknown, type: string, path: string): string[] {
  const primitive = PRIMITIVE_CHECKS[type];
  if (primitive !== undefined) return primitive(value) ? [] : [`${path}: expected ${type}, got ${JSON.stringify(value)}`];
  const arrayItem = ARRAY_TYPE.exec(type)?.[1];
  if (arrayItem !== undefined) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((item, index) => checkAgainstModel(item, arrayItem, `${path}[${index}]`));
  }
  const mapValue = MAP_TYPE.exec(type)?.[1];
  if (mapValue !== undefined) {
    if (!isRecord(value)) return [`${path}: expected a mapping`];
    return Object.entries(value).flatMap(([key, item]) => checkAgainstModel(item, mapValue, `${path}.${key}`));
  }
  const model = modelClass(type);
  if (model === undefined) return [`${path}: no Kubernetes model named ${type}`];
  if (!isRecord(value)) return [`${path}: expected a ${type} mapping`];
  const attributes = new Map(model.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute.type]));
  const problems: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const attributeType = attributes.get(key);
    if (attributeType === undefined) problems.push(`${path}.${key}: unknown field of ${type}`);
    else problems.push(...checkAgainstModel(item, attributeType, `${path}.${key}`));
  }
  for (const required of REQUIRED_FIELDS[type] ?? []) {
    if (value[required] === undefined) problems.push(`${path}: ${type} needs ${required}`);
  }
  return problems;
}
