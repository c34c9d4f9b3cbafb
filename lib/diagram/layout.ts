/**
 * Layout of a topology with dagre (compound graph: groups contain nodes and groups), left to
 * right. Node sizes come from their text; group boxes are the union of their members plus a
 * margin and a title band. Pure and deterministic.
 */
import * as dagre from "@dagrejs/dagre";
import type { Topology, TopologyEdge, TopologyGroup, TopologyNode } from "./model";

export const FONT = { label: 13, detail: 11, edge: 10, group: 12 } as const;
const CHAR = 0.6; // average glyph width per font px (sans-serif)
const PAD_X = 10;
const PAD_Y = 8;
const LINE = 1.35;
const GROUP_PAD = 12;
const GROUP_TITLE = 20;

export interface Box {
  readonly x: number; // left
  readonly y: number; // top
  readonly width: number;
  readonly height: number;
}

export interface LaidOutNode extends Box {
  readonly node: TopologyNode;
}
export interface LaidOutGroup extends Box {
  readonly group: TopologyGroup;
  readonly depth: number;
}
export interface LaidOutEdge {
  readonly edge: TopologyEdge;
  readonly points: readonly { x: number; y: number }[];
  readonly labelAt?: { x: number; y: number };
}
export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LaidOutNode[];
  readonly groups: readonly LaidOutGroup[];
  readonly edges: readonly LaidOutEdge[];
}

export const textWidth = (s: string, px: number): number => Math.ceil(s.length * px * CHAR);

/** Width and height of a node box for its label and detail lines. */
export function nodeSize(n: TopologyNode): { width: number; height: number } {
  const width = Math.max(textWidth(n.label, FONT.label), ...n.detail.map((d) => textWidth(d, FONT.detail))) + 2 * PAD_X;
  const height = Math.ceil(FONT.label * LINE + n.detail.length * FONT.detail * LINE) + 2 * PAD_Y;
  return { width: Math.max(width, 60), height };
}

/** Lay the topology out; `margin` surrounds the drawing. */
export function layoutTopology(t: Topology, margin = 16): Layout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  // nodesep/edgesep leave room above each nested group for the box margin and title drawn in svg.ts.
  g.setGraph({ rankdir: "LR", nodesep: 36, ranksep: 70, edgesep: 36, marginx: 0, marginy: 0 });
  // Groups with no node inside (at any depth) are not drawn: dagre would place them as nodes.
  const used = new Set<string>();
  for (const n of t.nodes) {
    for (let id = n.group; id !== undefined && !used.has(id); id = t.groups.find((x) => x.id === id)?.parent)
      used.add(id);
  }
  const drawn = t.groups.filter((grp) => used.has(grp.id));
  for (const grp of drawn) g.setNode(grp.id, {});
  for (const grp of drawn) if (grp.parent) g.setParent(grp.id, grp.parent);
  for (const n of t.nodes) {
    g.setNode(n.id, nodeSize(n));
    if (n.group) g.setParent(n.id, n.group);
  }
  t.edges.forEach((e, i) => {
    g.setEdge(
      e.from,
      e.to,
      e.label ? { width: textWidth(e.label, FONT.edge) + 6, height: FONT.edge + 6, labelpos: "c" } : {},
      `e${i}`,
    );
  });
  dagre.layout(g);

  const nodes: LaidOutNode[] = t.nodes.map((n) => {
    const l = g.node(n.id);
    return { node: n, x: l.x - l.width / 2, y: l.y - l.height / 2, width: l.width, height: l.height };
  });
  const nodeBox = new Map(nodes.map((n) => [n.node.id, n as Box]));
  const depthOf = (grp: TopologyGroup): number =>
    grp.parent ? 1 + depthOf(t.groups.find((x) => x.id === grp.parent)!) : 0;
  const boxes = new Map<string, Box>();
  const groupBox = (grp: TopologyGroup): Box | undefined => {
    if (boxes.has(grp.id)) return boxes.get(grp.id);
    const members = [
      ...t.nodes.filter((n) => n.group === grp.id).map((n) => nodeBox.get(n.id)!),
      ...t.groups
        .filter((c) => c.parent === grp.id)
        .map((c) => groupBox(c))
        .filter((b): b is Box => b !== undefined),
    ];
    if (members.length === 0) return undefined;
    const x0 = Math.min(...members.map((b) => b.x)) - GROUP_PAD;
    const y0 = Math.min(...members.map((b) => b.y)) - GROUP_PAD - GROUP_TITLE;
    const x1 =
      Math.max(...members.map((b) => b.x + b.width), x0 + GROUP_PAD + textWidth(grp.label, FONT.group)) + GROUP_PAD;
    const y1 = Math.max(...members.map((b) => b.y + b.height)) + GROUP_PAD;
    const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    boxes.set(grp.id, box);
    return box;
  };
  const groups: LaidOutGroup[] = [];
  for (const grp of drawn) {
    const b = groupBox(grp);
    if (b) groups.push({ group: grp, depth: depthOf(grp), ...b });
  }
  groups.sort((a, b) => a.depth - b.depth || a.group.id.localeCompare(b.group.id));

  const edges: LaidOutEdge[] = t.edges.map((e, i) => {
    const l = g.edge({ v: e.from, w: e.to, name: `e${i}` });
    return {
      edge: e,
      points: l.points.map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })),
      ...(e.label ? { labelAt: { x: l.x, y: l.y } } : {}),
    };
  });

  // Shift everything so the drawing starts at (margin, margin).
  const all: Box[] = [...nodes, ...groups];
  const pts = edges.flatMap((e) => e.points);
  const minX = Math.min(...all.map((b) => b.x), ...pts.map((p) => p.x));
  const minY = Math.min(...all.map((b) => b.y), ...pts.map((p) => p.y));
  const maxX = Math.max(...all.map((b) => b.x + b.width), ...pts.map((p) => p.x));
  const maxY = Math.max(...all.map((b) => b.y + b.height), ...pts.map((p) => p.y));
  const dx = margin - minX;
  const dy = margin - minY;
  const mv = <T extends Box>(b: T): T => ({ ...b, x: b.x + dx, y: b.y + dy });
  const mp = (p: { x: number; y: number }) => ({ x: p.x + dx, y: p.y + dy });
  return {
    width: Math.ceil(maxX - minX + 2 * margin),
    height: Math.ceil(maxY - minY + 2 * margin),
    nodes: nodes.map(mv),
    groups: groups.map(mv),
    edges: edges.map((e) => ({ ...e, points: e.points.map(mp), ...(e.labelAt ? { labelAt: mp(e.labelAt) } : {}) })),
  };
}
