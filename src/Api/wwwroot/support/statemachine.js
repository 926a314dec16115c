"use strict";

// The order saga drawn on an order's page, with the path this order took highlighted. The graph is
// order-state-machine.json: MassTransit's own GetGraph() of OrderStateMachine, committed beside this file and checked
// against the machine by tests/Sagas.UnitTests/Ordering/Order_state_machine_drawing.cs, so it cannot drift from the code.
// MassTransit's graph has two kinds of node: states, and events, an event being one node however many states handle
// it ("handles": state → event; "leadsTo": event → the state it moves the order to). It is drawn that way, in layers
// from Initial: states on one row, the events they handle on the next, the states those lead to on the next, and so on.
// The path comes from the order's timeline (from, event, to of each entry). Uses console.js's $() and current.

const SVG_NS = "http://www.w3.org/2000/svg";
const ROW_HEIGHT = 64;
const GAP = 14;
let stateMachineGraph = null;

async function loadStateMachineGraph() {
  if (stateMachineGraph) return stateMachineGraph;
  const response = await fetch("/support/order-state-machine.json", { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error(`The state machine drawing is missing (${response.status}).`);
  stateMachineGraph = await response.json();
  return stateMachineGraph;
}

/** What the timeline says the order went through: states, events, and the edges between them. */
function takenPath(timeline, graph) {
  const taken = { nodes: new Set(["state:Initial"]), edges: new Set(), steps: [] };
  for (const entry of timeline) {
    const from = `state:${entry.from ?? "Initial"}`;
    // A timer is in the timeline by its message, in the graph by its schedule's event.
    const event = `event:${graph.timelineNames?.[entry.event] ?? entry.event}`;
    const to = `state:${entry.to}`;
    taken.nodes.add(from).add(event).add(to);
    taken.edges.add(`${from}>${event}`).add(`${event}>${to}`);
    taken.steps.push(`${entry.event} → ${entry.to}`);
  }
  return taken;
}

/** Layers by breadth-first distance from Initial; what cannot be reached goes last. */
function layers(graph) {
  const next = new Map();
  const link = (from, to) => (next.get(from) ?? next.set(from, []).get(from)).push(to);
  for (const [state, event] of graph.handles) link(`state:${state}`, `event:${event}`);
  for (const [event, state] of graph.leadsTo) link(`event:${event}`, `state:${state}`);
  const all = [...graph.states.map((s) => `state:${s}`), ...graph.events.map((e) => `event:${e}`)];
  const depth = new Map([["state:Initial", 0]]);
  const queue = ["state:Initial"];
  while (queue.length) {
    const node = queue.shift();
    for (const to of next.get(node) ?? []) {
      if (!depth.has(to)) {
        depth.set(to, depth.get(node) + 1);
        queue.push(to);
      }
    }
  }
  const last = Math.max(0, ...depth.values()) + 1;
  const rows = [];
  for (const node of all) (rows[depth.get(node) ?? last] ??= []).push(node);
  return { rows: rows.filter(Boolean), next };
}

function svg(name, attributes, text) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function drawStateMachine(graph, timeline) {
  const taken = takenPath(timeline, graph);
  const { rows, next } = layers(graph);
  const place = new Map();
  const widths = rows.map((row) => row.reduce((sum, node) => sum + node.split(":")[1].length * 7 + 20 + GAP, 0));
  const width = Math.max(...widths) + GAP;
  rows.forEach((row, r) => {
    let x = (width - widths[r]) / 2 + GAP;
    for (const node of row) {
      const w = node.split(":")[1].length * 7 + 20;
      place.set(node, { x, y: 10 + r * ROW_HEIGHT, w, h: 26 });
      x += w + GAP;
    }
  });

  const picture = svg("svg", { viewBox: `0 0 ${width} ${rows.length * ROW_HEIGHT}`, width, role: "img",
    "aria-labelledby": "machine-heading", class: "machine" });
  const defs = svg("defs", {});
  for (const id of ["arrow", "arrow-taken"]) {
    const marker = svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: id }));
    defs.append(marker);
  }
  picture.append(defs);
  for (const [from, targets] of next) {
    for (const to of targets) {
      const a = place.get(from);
      const b = place.get(to);
      if (!a || !b) continue;
      const on = taken.edges.has(`${from}>${to}`);
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
      // Downwards a straight line; back up (a later state leading to an earlier row) a curve beside the nodes.
      const d = y2 > y1 ? `M ${x1} ${y1} L ${x2} ${y2}` : `M ${x1} ${a.y} C ${x1 + 60} ${a.y - 40}, ${x2 + 60} ${b.y + b.h + 40}, ${x2} ${b.y + b.h}`;
      picture.append(svg("path", { d, class: on ? "edge taken" : "edge", "marker-end": `url(#${on ? "arrow-taken" : "arrow"})`,
        "data-edge": `${from}>${to}` }));
    }
  }
  for (const [node, p] of place) {
    const [kind, name] = node.split(":");
    const group = svg("g", { class: `${kind}${taken.nodes.has(node) ? " taken" : ""}`, "data-node": node });
    group.append(svg("rect", { x: p.x, y: p.y, width: p.w, height: p.h, rx: kind === "state" ? 6 : 13 }));
    group.append(svg("text", { x: p.x + p.w / 2, y: p.y + 17, "text-anchor": "middle" }, name));
    group.append(svg("title", {}, `${kind === "state" ? "State" : "Event"} ${name}`));
    picture.append(group);
  }
  return { picture, path: taken.steps };
}

/** Called by console.js with the order's timeline on every refresh; redraws only when the timeline grew. */
async function renderStateMachine(timeline) {
  const box = $("machine-drawing");
  const drawn = `${current.id}:${timeline.length}`;
  if (box.dataset.drawn === drawn) return;
  try {
    const { picture, path } = drawStateMachine(await loadStateMachineGraph(), timeline);
    box.replaceChildren(picture);
    box.dataset.drawn = drawn;
    $("machine-path").textContent = path.length ? `This order: Initial → ${path.join(" → ")}` : "This order has no timeline yet.";
  } catch (error) {
    $("machine-path").textContent = error.message;
  }
}
