import type { Component } from "../../core/model/dimensions.ts";
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { Span } from "../../core/model/span.ts";
import { PLACEHOLDERS } from "../endpoints/auto-grouping.ts";
import type { EndpointProtocol } from "../endpoints/endpoint-grouper.ts";
import type { SpanInput } from "../span-input.ts";

/** The collector's endpoint naming (EndpointGrouper.nameEndpoint), so spans and access logs share names. */
export type NameEndpoint = (service: string, method: string, path: string, protocol: EndpointProtocol) => string;

/**
 * Semantic-convention names, newest first: OpenTelemetry renamed HTTP and network attributes in semconv
 * 1.21+ (http.method -> http.request.method, http.status_code -> http.response.status_code,
 * net.peer.name -> server.address, ...); instrumentations of both generations are in the field.
 */
const HTTP_METHOD = ["http.request.method", "http.method"];
const HTTP_STATUS = ["http.response.status_code", "http.status_code"];
/** `http.path` is what Zipkin instrumentations (Brave, zipkin-js) record. */
const URL_PATH = ["url.path", "http.target", "http.path"];
const FULL_URL = ["url.full", "http.url"];
const PEER_HOST = ["server.address", "net.peer.name", "http.host", "net.host.name", "network.peer.address", "net.peer.ip"];

function first(attributes: Record<string, string>, keys: readonly string[]): string {
  for (const key of keys) {
    const value = attributes[key];
    if (value !== undefined && value !== "") return value;
  }
  return "";
}

/**
 * Service name as the mesh names it, `<name>.<namespace>` (docs/architecture.md "Dimensions"), so a service's
 * spans and its sidecar's access logs land on the same entity. A name that already ends in its namespace
 * is kept as is.
 */
export function serviceOf(resource: Record<string, string>): string {
  const name = resource["service.name"] ?? "";
  if (name === "") return UNKNOWN_SERVICE;
  const namespace = resource["k8s.namespace.name"] ?? "";
  if (namespace === "" || name.endsWith(`.${namespace}`)) return name;
  return `${name}.${namespace}`;
}

/**
 * Instance: `<pod>.<namespace>` like mesh instances (docs/architecture.md "Dimensions"), so a pod's spans
 * and its sidecar's access logs land on the same instance; else service.instance.id, else the host name.
 */
export function instanceOf(resource: Record<string, string>): string {
  const pod = resource["k8s.pod.name"];
  if (pod !== undefined && pod !== "") {
    const namespace = resource["k8s.namespace.name"] ?? "";
    return namespace === "" ? pod : `${pod}.${namespace}`;
  }
  const id = resource["service.instance.id"];
  if (id !== undefined && id !== "") return id;
  return resource["host.name"] ?? resource["host.id"] ?? "";
}

/** `reviews.default.svc.cluster.local` -> `reviews.default`, the way cluster host names map (docs/architecture.md). */
export function serviceFromHost(host: string): string {
  // A bare IPv6 address has several colons and no port; `[v6]:port` and `name:port` lose the port.
  const withoutPort = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.indexOf(":") === host.lastIndexOf(":") ? host.replace(/:\d+$/, "") : host;
  const match = /^([^.]+)\.([^.]+)\.svc(\.cluster\.local)?$/.exec(withoutPort);
  return match ? `${match[1]}.${match[2]}` : withoutPort;
}

/**
 * A bare name (`backend`) is a Kubernetes Service in the caller's own namespace, as cluster DNS resolves it,
 * so it becomes `backend.<namespace>` like the callee's own spans and the mesh name it. Names with a dot
 * (`backend.shop`, `api.example.com`, addresses) and IPv6 addresses are kept; so is `localhost`.
 */
function inNamespace(name: string, callerNamespace: string): string {
  if (callerNamespace === "" || name === "" || name.includes(".") || name.includes(":") || name === "localhost") return name;
  return `${name}.${callerNamespace}`;
}

/**
 * The service a client or producer span calls: peer.service first (set by the caller on purpose), then the
 * host (server.address, net.peer.name, ..., the host of url.full), through the cluster host-name rules and
 * in the caller's namespace when the name has none; a messaging destination is kept as named.
 */
export function peerServiceOf(attributes: Record<string, string>, callerNamespace = ""): string {
  const peer = attributes["peer.service"];
  if (peer !== undefined && peer !== "") return inNamespace(serviceFromHost(peer), callerNamespace);
  const host = first(attributes, PEER_HOST) || hostOfUrl(first(attributes, FULL_URL));
  if (host !== "") return inNamespace(serviceFromHost(host), callerNamespace);
  return attributes["messaging.destination.name"] ?? attributes["messaging.destination"] ?? "";
}

export function componentOf(attributes: Record<string, string>): Component {
  if (attributes["rpc.system"] === "grpc") return "grpc";
  if (first(attributes, HTTP_METHOD) !== "" || first(attributes, HTTP_STATUS) !== "") return "http";
  return "tcp";
}

export function httpStatusOf(attributes: Record<string, string>): number {
  const status = Number(first(attributes, HTTP_STATUS));
  return Number.isInteger(status) ? status : 0;
}

/**
 * Endpoint of the called side: `/pkg.Service/Method` for RPC, `METHOD:/path` for HTTP, else the span name.
 * HTTP paths go through the collector's grouping (user rules, then automatic grouping) like the mesh's
 * access-log paths, so the path the request carried names the endpoint first: `/api/items/42` is
 * `GET:/api/items/{id}` from a span and from a sidecar alike. Only without a path does the route template
 * name it, its parameters (`:id`, `{id}`, `{itemId}`, `<int:id>`) standing for an id segment. Names are
 * capped per service.
 */
export function endpointOf(span: SpanInput, calledService: string, nameEndpoint: NameEndpoint): string {
  const attributes = span.attributes;
  const rpcService = attributes["rpc.service"];
  const rpcMethod = attributes["rpc.method"];
  if (rpcService && rpcMethod) return nameEndpoint(calledService, "", `/${rpcService}/${rpcMethod}`, "grpc");
  const method = first(attributes, HTTP_METHOD);
  if (method !== "") {
    const path = first(attributes, URL_PATH) || pathOfUrl(first(attributes, FULL_URL)) || routeAsPath(attributes["http.route"] ?? "");
    if (path !== "") return nameEndpoint(calledService, method.toUpperCase(), path, "http");
  }
  // Span names are meant to be low-cardinality already, but the cap still applies to them.
  return nameEndpoint(calledService, "", span.name, "grpc");
}

/** A route template's parameter segment: Express `:id`, OpenAPI `{id}` (also `{id:regex}`), Flask `<int:id>`. */
const ROUTE_PARAMETER = /^(:[^/]+|\{[^/]*\}|<[^/]*>)$/;

/** `/api/items/:id` -> `/api/items/{id}`: what automatic grouping makes of `/api/items/42`. */
function routeAsPath(route: string): string {
  if (!(route.includes(":") || route.includes("{") || route.includes("<"))) return route;
  return route
    .split("/")
    .map((segment) => (ROUTE_PARAMETER.test(segment) ? PLACEHOLDERS.integer : segment))
    .join("/");
}

/** Error: OTLP status ERROR; else HTTP >= 500 on the server side, >= 400 on the client side (as for access logs). */
export function isErrorSpan(span: SpanInput): boolean {
  if (span.hasErrorStatus) return true;
  const status = httpStatusOf(span.attributes);
  const isClientSide = span.kind === "client" || span.kind === "producer";
  return status >= (isClientSide ? 400 : 500);
}

/** Maps a decoded span to the store's span with mesh dimensions. */
export function mapSpan(span: SpanInput, nameEndpoint: NameEndpoint): Span {
  const service = serviceOf(span.resourceAttributes);
  const isOutgoing = span.kind === "client" || span.kind === "producer";
  const peerService = isOutgoing ? peerServiceOf(span.attributes, span.resourceAttributes["k8s.namespace.name"] ?? "") : "";
  // A client span's endpoint is the callee's, named within the callee's service like its own server spans.
  const endpointService = isOutgoing && peerService !== "" ? peerService : service;
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: span.startTimeUnixNano,
    durationNs: span.durationNs,
    service,
    instance: instanceOf(span.resourceAttributes),
    endpoint: endpointOf(span, endpointService, nameEndpoint),
    peerService,
    isError: isErrorSpan(span),
    statusMessage: span.statusMessage,
    attributes: span.attributes,
    resourceAttributes: span.resourceAttributes,
  };
}

function hostOfUrl(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*@)?([^/?#]+)/i.exec(url);
  return match?.[2] ?? "";
}

function pathOfUrl(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url);
  return match ? (match[1] ?? "/") : "";
}
