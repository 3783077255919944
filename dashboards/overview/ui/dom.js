/* global document */
// Every node the page shows is built here with createElement and textContent: names from the mesh
// (services, endpoints, probe messages) never pass through innerHTML, so they cannot inject markup.

const SVG_NS = "http://www.w3.org/2000/svg";

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | undefined>} Attributes */

/**
 * @param {Element} element
 * @param {Attributes} attributes
 * @param {Child[]} children
 */
function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "number" ? String(child) : child);
  }
}

/**
 * An HTML element; strings become text nodes.
 * @template {keyof HTMLElementTagNameMap} Tag
 * @param {Tag} tag
 * @param {Attributes} [attributes]
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[Tag]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  fill(element, attributes, children);
  return element;
}

/**
 * An SVG element (the topology graph).
 * @param {string} tag
 * @param {Attributes} [attributes]
 * @param {Child[]} children
 * @returns {SVGElement}
 */
export function s(tag, attributes = {}, ...children) {
  const element = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  fill(element, attributes, children);
  return element;
}

/** @param {number | null | undefined} value */
export function formatCount(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 100) return value.toFixed(0);
  // A trickle (one call in half an hour) must not read as "0".
  return value > 0 && value < 1 ? value.toPrecision(1) : String(Math.round(value * 10) / 10);
}

/** SLA and success rates arrive as percentages (0..100). @param {number | null | undefined} value */
export function formatPercent(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `${value >= 99.995 ? "100" : value.toFixed(2)} %`;
}

/** @param {number | null | undefined} value */
export function formatMs(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

/** @param {number} epochMs */
export function formatTime(epochMs) {
  return new Date(epochMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** The hash route of a service page; the name is URI-encoded so any character survives the round trip. @param {string} service */
export function serviceHref(service) {
  return `#/service/${encodeURIComponent(service)}`;
}

/**
 * A titled panel of the page.
 * @param {string} title
 * @param {Child[]} children
 */
export function panel(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/**
 * A table from column headings and rows of cells.
 * @param {string[]} headings
 * @param {Child[][]} rows
 * @param {string} emptyText shown instead of an empty table
 */
export function table(headings, rows, emptyText) {
  if (rows.length === 0) return h("p", { class: "empty" }, emptyText);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...headings.map((heading) => h("th", { scope: "col" }, heading)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell) => h("td", {}, cell))))),
  );
}
