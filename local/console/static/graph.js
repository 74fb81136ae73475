// Draws a state machine graph (nodes and edges from local/console/graph.ts) as SVG, laid out by
// ELK's layered algorithm with Parallel and Map states as boxes around the states they run, and
// paints an execution's trace on it (path taken, current state, failures, retries).
import { s } from "./dom.js";

const FONT = '12px "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif';
const LABEL_FONT = '10px "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif';
const LINE_HEIGHT = 14;
const WRAP_AT = 22;
const CONTAINER_TITLE = 24;
const MAX_EDGE_LABEL = 24;
const CONTAINERS = new Set(["Parallel", "Map", "Branch"]);
const STATUS_CLASSES = [
  "visited",
  "running",
  "succeeded",
  "failed",
  "aborted",
  "caught",
  "current",
  "active",
];

const canvas = document.createElement("canvas").getContext("2d");
/** Layouts by state machine: a definition does not change while the runtime runs, and ELK takes a while. */
const layouts = new Map();
function textWidth(text, font) {
  canvas.font = font;
  return canvas.measureText(text).width;
}
/** Long state names on two or three lines ("Wait For Channel Ready:" / "Check State"), so the graph stays narrow. */
function wrap(label) {
  if (label.length <= WRAP_AT) return [label];
  const lines = [];
  let line = "";
  for (const word of label.split(" ")) {
    if (line && `${line} ${word}`.length > WRAP_AT) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
const clip = (text) => (text.length > MAX_EDGE_LABEL ? `${text.slice(0, MAX_EDGE_LABEL - 1)}…` : text);

function elkGraph(graph) {
  const byParent = new Map();
  for (const node of graph.nodes) {
    const key = node.parent ?? "";
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(node);
  }
  const toElk = (node) => {
    if (CONTAINERS.has(node.kind))
      return {
        id: node.id,
        layoutOptions: { "elk.padding": `[top=${CONTAINER_TITLE + 6},left=12,bottom=12,right=12]` },
        children: (byParent.get(node.id) ?? []).map(toElk),
      };
    if (node.kind === "Start" || node.kind === "End") return { id: node.id, width: 56, height: 26 };
    const extra = node.kind === "Choice" ? 34 : 20;
    const lines = wrap(node.label);
    const widest = Math.max(...lines.map((line) => textWidth(line, FONT)));
    return {
      id: node.id,
      width: Math.max(80, Math.ceil(widest) + extra),
      height: 16 + LINE_HEIGHT * lines.length,
    };
  };
  return {
    id: "__root__",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.spacing.nodeNode": "22",
      "elk.layered.spacing.nodeNodeBetweenLayers": "30",
      "elk.spacing.edgeLabel": "2",
      // Loops (a wait's poll) point back up; network simplex keeps the layers narrow.
      "elk.layered.cycleBreaking.strategy": "DEPTH_FIRST",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.padding": "[top=12,left=12,bottom=12,right=12]",
    },
    children: (byParent.get("") ?? []).map(toElk),
    edges: graph.edges.map((e) => ({
      id: e.id,
      sources: [e.from],
      targets: [e.to],
      labels: e.label
        ? [{ text: clip(e.label), width: Math.ceil(textWidth(clip(e.label), LABEL_FONT)) + 4, height: 13 }]
        : [],
    })),
  };
}

/** Absolute positions of every laid out node (ELK's are relative to the parent). */
function positions(root) {
  const out = new Map();
  const walk = (node, dx, dy) => {
    for (const child of node.children ?? []) {
      const x = dx + (child.x ?? 0);
      const y = dy + (child.y ?? 0);
      out.set(child.id, { x, y, width: child.width ?? 0, height: child.height ?? 0 });
      walk(child, x, y);
    }
  };
  out.set(root.id, { x: 0, y: 0, width: root.width ?? 0, height: root.height ?? 0 });
  walk(root, 0, 0);
  return out;
}

function labelText(label, box) {
  const lines = wrap(label);
  const top = box.height / 2 - ((lines.length - 1) * LINE_HEIGHT) / 2 + 4;
  return s(
    "text",
    { class: "label", "text-anchor": "middle" },
    lines.map((line, i) => s("tspan", { x: box.width / 2, y: top + i * LINE_HEIGHT }, line)),
  );
}

function nodeShape(node, box) {
  const { width: w, height: ht } = box;
  switch (node.kind) {
    case "Start":
    case "End":
      return s("rect", { class: "shape", width: w, height: ht, rx: ht / 2 });
    case "Choice":
      return s("polygon", {
        class: "shape",
        points: `12,0 ${w - 12},0 ${w},${ht / 2} ${w - 12},${ht} 12,${ht} 0,${ht / 2}`,
      });
    case "Succeed":
    case "Fail":
      return s("rect", { class: "shape", width: w, height: ht, rx: ht / 2 });
    case "Pass":
    case "Wait":
      return s("rect", { class: "shape", width: w, height: ht, rx: 10 });
    default:
      return s("rect", { class: "shape", width: w, height: ht, rx: 3 });
  }
}

/**
 * Lays out (once per `cacheKey`) and draws `graph` into `container`. Returns the drawing: `{ svg, width, height,
 * nodes: Map(id -> <g>), edges: Map(id -> <g>) }`. Every state is a `<g class="node"
 * data-state="<state name>" data-kind="<Type>">`, every edge a `<g class="edge" data-edge>`.
 */
export async function drawGraph(container, graph, { onSelect, cacheKey } = {}) {
  let layout = cacheKey ? layouts.get(cacheKey) : undefined;
  if (!layout) {
    layout = new globalThis.ELK().layout(elkGraph(graph));
    if (cacheKey) {
      layouts.set(cacheKey, layout);
      layout.catch(() => layouts.delete(cacheKey));
    }
  }
  const laid = await layout;
  const at = positions(laid);
  const width = Math.ceil(laid.width ?? 0);
  const height = Math.ceil(laid.height ?? 0);
  const svg = s("svg", {
    class: "graph",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": "state machine graph",
  });
  svg.append(
    s(
      "defs",
      {},
      ["plain", "taken", "catch"].map((kind) =>
        s(
          "marker",
          {
            id: `arrow-${kind}`,
            viewBox: "0 0 10 10",
            refX: 9,
            refY: 5,
            markerWidth: 7,
            markerHeight: 7,
            orient: "auto-start-reverse",
          },
          s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: `arrow arrow-${kind}` }),
        ),
      ),
    ),
  );
  const nodes = new Map();
  const edges = new Map();
  const containerLayer = s("g", { class: "containers" });
  const edgeLayer = s("g", { class: "edges" });
  const nodeLayer = s("g", { class: "nodes" });
  svg.append(containerLayer, edgeLayer, nodeLayer);

  for (const node of graph.nodes) {
    const box = at.get(node.id);
    if (!box) continue;
    const isState = !["Start", "End", "Branch"].includes(node.kind);
    const attrs = {
      class: `node kind-${node.kind.toLowerCase()}${CONTAINERS.has(node.kind) ? " container" : ""}`,
      "data-node": node.id,
      "data-kind": node.kind,
      transform: `translate(${box.x},${box.y})`,
      ...(isState ? { "data-state": node.id, tabindex: 0 } : {}),
    };
    const title = s("title", {}, isState ? `${node.label} (${node.kind})` : node.label);
    let g;
    if (CONTAINERS.has(node.kind)) {
      g = s(
        "g",
        attrs,
        title,
        s("rect", { class: "shape", width: box.width, height: box.height, rx: 6 }),
        s(
          "text",
          { class: "container-title", x: 10, y: 16 },
          node.kind === "Branch" ? node.label : `${node.label} · ${node.kind}`,
        ),
        s("text", { class: "badges", x: box.width - 10, y: 16, "text-anchor": "end" }),
      );
      containerLayer.append(g);
    } else {
      g = s(
        "g",
        attrs,
        title,
        nodeShape(node, box),
        labelText(node.label, box),
        s("text", { class: "badges", x: box.width + 4, y: box.height / 2 + 4 }),
      );
      nodeLayer.append(g);
    }
    if (isState && onSelect) {
      g.addEventListener("click", (event) => {
        event.stopPropagation();
        onSelect(node.id);
      });
      g.addEventListener("keydown", (event) => event.key === "Enter" && onSelect(node.id));
    }
    nodes.set(node.id, g);
  }

  const byId = new Map(graph.edges.map((e) => [e.id, e]));
  for (const laidEdge of laid.edges ?? []) {
    const edge = byId.get(laidEdge.id);
    const origin = at.get(laidEdge.container ?? laid.id) ?? { x: 0, y: 0 };
    const points = (laidEdge.sections ?? []).flatMap((section) => [
      section.startPoint,
      ...(section.bendPoints ?? []),
      section.endPoint,
    ]);
    if (!edge || !points.length) continue;
    const d = points.map((p, i) => `${i ? "L" : "M"} ${origin.x + p.x} ${origin.y + p.y}`).join(" ");
    const g = s(
      "g",
      { class: `edge kind-${edge.kind}`, "data-edge": edge.id, "data-from": edge.from, "data-to": edge.to },
      s("path", {
        d,
        class: "line",
        "marker-end": `url(#arrow-${edge.kind === "catch" ? "catch" : "plain"})`,
      }),
    );
    for (const label of laidEdge.labels ?? []) {
      g.append(
        s(
          "text",
          { class: "edge-label", x: origin.x + (label.x ?? 0) + 2, y: origin.y + (label.y ?? 0) + 10 },
          s("title", {}, edge.label ?? ""),
          label.text,
        ),
      );
    }
    edgeLayer.append(g);
    edges.set(edge.id, g);
  }
  container.replaceChildren(svg);
  return { svg, width, height, nodes, edges };
}

/**
 * Paints an execution's trace (local/console/trace.ts) on a drawing: `visited` on every state
 * entered, its last status (`running`, `succeeded`, `failed`, `aborted`) and `caught`, `current`
 * (pulsing) on the innermost states running now, `active` on their containers, `taken` on the
 * edges the run went along; badges count entries (×n) and retries (↻n).
 */
export function paintTrace(drawing, graph, trace) {
  const parents = new Map(graph.nodes.map((n) => [n.id, n.parent]));
  const active = new Set();
  for (const name of trace.current)
    for (let p = parents.get(name); p !== undefined; p = parents.get(p)) active.add(p);
  for (const [id, g] of drawing.nodes) {
    const run = trace.states[id];
    g.classList.remove(...STATUS_CLASSES);
    if (run) g.classList.add("visited", run.status);
    if (run?.caught) g.classList.add("caught");
    if (trace.current.includes(id)) g.classList.add("current");
    if (active.has(id)) g.classList.add("active");
    const badges = [];
    if (run && run.entered > 1) badges.push(`×${run.entered}`);
    if (run?.retries) badges.push(`↻${run.retries}`);
    // A container has room for the error's name; a state shows the sign (its title and the panel say the rest).
    if (run?.status === "failed")
      badges.push(g.classList.contains("container") && run.error ? `⚠ ${run.error}` : "⚠");
    const badgeText = g.querySelector(":scope > text.badges");
    if (badgeText) badgeText.textContent = badges.join("  ");
    const title = g.querySelector(":scope > title");
    if (title && run) {
      const kind = g.getAttribute("data-kind");
      title.textContent = [
        `${id} (${kind}): ${run.status}`,
        run.entered > 1 ? `entered ${run.entered} times` : "",
        run.retries ? `${run.retries} retries` : "",
        run.error ? `${run.error}${run.cause ? `: ${run.cause}` : ""}` : "",
      ]
        .filter(Boolean)
        .join("\n");
    }
  }
  const taken = new Set(trace.edges);
  for (const [id, g] of drawing.edges) {
    const isTaken = taken.has(id);
    g.classList.toggle("taken", isTaken);
    const path = g.querySelector("path.line");
    const kind = g.classList.contains("kind-catch") ? "catch" : isTaken ? "taken" : "plain";
    path?.setAttribute("marker-end", `url(#arrow-${isTaken && kind !== "catch" ? "taken" : kind})`);
  }
}
