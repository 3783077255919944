// A layered layout by call direction: callers left, callees right. Each node's layer is the length of the
// longest call chain reaching it, so a service sits right of everything that calls it (apart from calls
// that close a cycle, which are drawn backwards).

/**
 * @typedef {{ name: string, layer: number, row: number, x: number, y: number }} PlacedNode
 * @typedef {{ nodes: PlacedNode[], width: number, height: number }} Layout
 */

export const LAYER_SPACING = 220;
export const ROW_SPACING = 90;
export const MARGIN = { x: 90, y: 50 };

/**
 * Edges in call direction without the ones closing a cycle (found by a depth-first walk), so what is left
 * is acyclic. Linear in nodes and edges, whatever the mesh's shape.
 * @param {string[]} names
 * @param {{ source: string, target: string }[]} edges
 * @returns {Map<string, string[]>} callees of each node
 */
function acyclicCallees(names, edges) {
  /** @type {Map<string, string[]>} */
  const callees = new Map(names.map((name) => [name, []]));
  for (const edge of edges) {
    if (edge.source !== edge.target && callees.has(edge.target)) callees.get(edge.source)?.push(edge.target);
  }
  /** @type {Map<string, "open" | "done">} */
  const state = new Map();
  /** @type {Map<string, string[]>} */
  const kept = new Map(names.map((name) => [name, []]));
  /** @param {string} name */
  const walk = (name) => {
    state.set(name, "open");
    for (const callee of callees.get(name) ?? []) {
      if (state.get(callee) === "open") continue; // a back edge: it closes a cycle
      kept.get(name)?.push(callee);
      if (!state.has(callee)) walk(callee);
    }
    state.set(name, "done");
  };
  const incoming = new Set(edges.map((edge) => edge.target));
  // Roots first (nobody calls them) so cycles are cut at the edge pointing back toward the callers.
  for (const name of names) if (!incoming.has(name) && !state.has(name)) walk(name);
  for (const name of names) if (!state.has(name)) walk(name);
  return kept;
}

/**
 * Layer of each node: the longest call chain reaching it (Kahn's order over the acyclic edges).
 * @param {string[]} names
 * @param {{ source: string, target: string }[]} edges
 * @returns {Map<string, number>}
 */
export function assignLayers(names, edges) {
  const callees = acyclicCallees(names, edges);
  /** @type {Map<string, number>} */
  const pending = new Map(names.map((name) => [name, 0]));
  for (const targets of callees.values()) for (const target of targets) pending.set(target, (pending.get(target) ?? 0) + 1);
  /** @type {Map<string, number>} */
  const layers = new Map(names.map((name) => [name, 0]));
  const ready = names.filter((name) => pending.get(name) === 0);
  while (ready.length > 0) {
    const name = /** @type {string} */ (ready.pop());
    const layer = layers.get(name) ?? 0;
    for (const callee of callees.get(name) ?? []) {
      layers.set(callee, Math.max(layers.get(callee) ?? 0, layer + 1));
      const left = (pending.get(callee) ?? 1) - 1;
      pending.set(callee, left);
      if (left === 0) ready.push(callee);
    }
  }
  return layers;
}

/**
 * Positions for every node: layers as columns, nodes in a column sorted by name so refreshes keep the
 * picture still.
 * @param {string[]} names
 * @param {{ source: string, target: string }[]} edges
 * @returns {Layout}
 */
export function layoutTopology(names, edges) {
  const layers = assignLayers(names, edges);
  /** @type {Map<number, string[]>} */
  const columns = new Map();
  for (const name of [...names].sort()) {
    const layer = layers.get(name) ?? 0;
    columns.set(layer, [...(columns.get(layer) ?? []), name]);
  }
  const tallest = Math.max(1, ...[...columns.values()].map((column) => column.length));
  const height = 2 * MARGIN.y + (tallest - 1) * ROW_SPACING;
  /** @type {PlacedNode[]} */
  const nodes = [];
  for (const [layer, column] of columns) {
    // Centre shorter columns vertically against the tallest one.
    const offset = ((tallest - column.length) * ROW_SPACING) / 2;
    column.forEach((name, row) => {
      nodes.push({ name, layer, row, x: MARGIN.x + layer * LAYER_SPACING, y: MARGIN.y + offset + row * ROW_SPACING });
    });
  }
  const layerCount = Math.max(1, ...[...columns.keys()].map((layer) => layer + 1));
  return { nodes, width: 2 * MARGIN.x + (layerCount - 1) * LAYER_SPACING, height };
}
