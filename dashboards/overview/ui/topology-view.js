// The topology graph in SVG: one circle per service coloured by health, one arrow per call relation
// labelled with its calls per minute. Clicking a real service opens its page.
import { formatCount, formatPercent, h, s, serviceHref } from "./dom.js";
import { healthOf } from "./health.js";
import { LAYER_SPACING, layoutTopology } from "./topology-layout.js";

/** A graph this big is unreadable anyway; the busiest nodes are kept and the rest counted. */
export const MAX_GRAPH_NODES = 120;
const NODE_RADIUS = 18;

/**
 * @param {import("./api.js").Topology} topology
 * @param {Set<string>} alerted services with a firing alert
 * @returns {HTMLElement}
 */
export function topologyGraph(topology, alerted) {
  if (topology.nodes.length === 0) return h("p", { class: "empty" }, "No calls between services in this range yet.");
  const shown = [...topology.nodes].sort((a, b) => b.cpm - a.cpm).slice(0, MAX_GRAPH_NODES);
  const shownNames = new Set(shown.map((node) => node.name));
  const edges = topology.edges.filter((edge) => shownNames.has(edge.source) && shownNames.has(edge.target));
  const layout = layoutTopology([...shownNames], edges);
  const positions = new Map(layout.nodes.map((node) => [node.name, node]));
  const svg = s(
    "svg",
    { class: "topology", viewBox: `0 0 ${layout.width} ${layout.height}`, width: layout.width, height: layout.height, role: "img", "aria-label": "service topology" },
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }))),
    s("g", { class: "edges" }, ...edges.map((edge) => edgeShape(edge, positions))),
    s("g", { class: "nodes" }, ...shown.map((node) => nodeShape(node, positions, alerted))),
  );
  const hidden = topology.nodes.length - shown.length;
  return h("div", { class: "topology-frame" }, svg, hidden > 0 ? h("p", { class: "note" }, `${hidden} quieter services not drawn.`) : null);
}

/**
 * @param {import("./api.js").TopologyEdge} edge
 * @param {Map<string, { x: number, y: number }>} positions
 */
function edgeShape(edge, positions) {
  const from = positions.get(edge.source);
  const to = positions.get(edge.target);
  if (!from || !to) return null;
  if (from === to) return null;
  // Stop the line at the circles' rims so the arrow head stays visible. Edges that skip layers or point
  // back (cycles) bow out so they do not run through the nodes in between.
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const length = Math.hypot(dx, dy);
  const ux = dx / length;
  const uy = dy / length;
  const start = { x: from.x + ux * NODE_RADIUS, y: from.y + uy * NODE_RADIUS };
  const end = { x: to.x - ux * NODE_RADIUS, y: to.y - uy * NODE_RADIUS };
  const layersSkipped = Math.abs(Math.round(dx / LAYER_SPACING)) - 1;
  const bend = dx < 0 ? 50 : Math.max(0, layersSkipped) * 35;
  const control = { x: (start.x + end.x) / 2 - uy * bend, y: (start.y + end.y) / 2 + ux * bend };
  // The curve's own midpoint (t = 1/2 of the quadratic Bézier), where the label goes.
  const middle = { x: (start.x + 2 * control.x + end.x) / 4, y: (start.y + 2 * control.y + end.y) / 4 };
  // Coloured by the worse of the two sides' views: a fault only the caller sees (timeouts, resets) still shows.
  const failing = edge.worstSla < 99 ? " failing" : "";
  return s(
    "g",
    { class: `edge${failing}`, "data-source": edge.source, "data-target": edge.target },
    s("path", { d: `M${start.x},${start.y} Q${control.x},${control.y} ${end.x},${end.y}`, "marker-end": "url(#arrow)" }),
    s("text", { x: middle.x, y: middle.y - 6, "text-anchor": "middle" }, `${formatCount(edge.cpmNow)} cpm now`),
    s("title", {}, `${edge.source} → ${edge.target}\n${edge.components.join(", ")} seen by ${edge.detectPoints.join(" and ")}\n${formatCount(edge.cpmNow)} cpm last minute, ${formatCount(edge.cpm)} cpm range average\nSLA ${formatPercent(edge.sla)}, worse side ${formatPercent(edge.worstSla)}`),
  );
}

/**
 * @param {import("./api.js").TopologyNode} node
 * @param {Map<string, { x: number, y: number }>} positions
 * @param {Set<string>} alerted
 */
function nodeShape(node, positions, alerted) {
  const at = positions.get(node.name);
  if (!at) return null;
  const health = node.isReal ? healthOf(node, alerted.has(node.name)) : "idle";
  const shape = s(
    "g",
    { class: `node ${health}${node.isReal ? "" : " external"}`, "data-name": node.name, transform: `translate(${at.x},${at.y})` },
    s("circle", { r: NODE_RADIUS }),
    s("text", { y: NODE_RADIUS + 16, "text-anchor": "middle" }, node.name),
    s("title", {}, `${node.name}\n${formatCount(node.cpm)} cpm, SLA ${formatPercent(node.sla)}`),
  );
  return node.isReal ? s("a", { href: serviceHref(node.name) }, shape) : shape;
}
