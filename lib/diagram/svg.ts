/**
 * A standalone SVG of a laid-out topology: nested group boxes with titles, nodes coloured by kind
 * with their label and detail lines, routes as solid arrows and DNS answers/clones as dashed ones.
 * No external fonts, scripts or images; every node carries `data-id` with its topology id.
 */
import type { NodeKind } from "./model";
import { FONT, type Layout } from "./layout";

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n1 = (v: number) => (Math.round(v * 10) / 10).toString();

const COLORS: Record<NodeKind, { fill: string; stroke: string; dash?: string }> = {
  template: { fill: "#eef2f7", stroke: "#64748b", dash: "4 2" },
  vm: { fill: "#e0f2fe", stroke: "#0369a1" },
  "k8s-node": { fill: "#dcfce7", stroke: "#15803d" },
  server: { fill: "#fef9c3", stroke: "#a16207" },
  dns: { fill: "#fae8ff", stroke: "#a21caf" },
  service: { fill: "#ccfbf1", stroke: "#0f766e" },
  tunnel: { fill: "#ffedd5", stroke: "#c2410c" },
  hostname: { fill: "#ffffff", stroke: "#475569" },
  external: { fill: "#f1f5f9", stroke: "#94a3b8", dash: "3 3" },
};
const GROUP_COLORS = { site: "#f8fafc", host: "#f1f5f9", cluster: "#f0fdf4" } as const;

/** A smooth path through every one of dagre's edge points (Catmull-Rom as cubic Béziers), so edge labels stay on their edge. */
function curve(pts: readonly { x: number; y: number }[]): string {
  const p = (q: { x: number; y: number }) => `${n1(q.x)},${n1(q.y)}`;
  if (pts.length <= 2) return pts.map((q, i) => `${i === 0 ? "M" : "L"}${p(q)}`).join(" ");
  const at = (i: number) => pts[Math.max(0, Math.min(pts.length - 1, i))];
  const parts = [`M${p(pts[0])}`];
  for (let i = 0; i < pts.length - 1; i++) {
    const [a, b, c, d] = [at(i - 1), at(i), at(i + 1), at(i + 2)];
    const c1 = { x: b.x + (c.x - a.x) / 6, y: b.y + (c.y - a.y) / 6 };
    const c2 = { x: c.x - (d.x - b.x) / 6, y: c.y - (d.y - b.y) / 6 };
    parts.push(`C${p(c1)} ${p(c2)} ${p(c)}`);
  }
  return parts.join(" ");
}

/** Render the layout as an SVG document (UTF-8 text ending with a newline). */
export function renderSvg(l: Layout, title: string): string {
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height + 28}" viewBox="0 0 ${l.width} ${l.height + 28}" font-family="Helvetica, Arial, sans-serif">`,
  );
  out.push(`<title>${xml(title)}</title>`);
  out.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334155"/></marker></defs>`,
  );
  out.push(`<rect x="0" y="0" width="${l.width}" height="${l.height + 28}" fill="#ffffff"/>`);
  out.push(`<text x="16" y="20" font-size="14" font-weight="bold" fill="#0f172a">${xml(title)}</text>`);
  out.push(`<g transform="translate(0,28)">`);
  for (const g of l.groups) {
    out.push(
      `<g class="group ${g.group.kind}" data-id="${xml(g.group.id)}"><rect x="${n1(g.x)}" y="${n1(g.y)}" width="${n1(g.width)}" height="${n1(g.height)}" rx="8" fill="${GROUP_COLORS[g.group.kind]}" stroke="#94a3b8"${g.group.kind === "site" ? ` stroke-dasharray="6 3"` : ""}/>` +
        `<text x="${n1(g.x + 10)}" y="${n1(g.y + 15)}" font-size="${FONT.group}" font-weight="bold" fill="#334155">${xml(g.group.label)}</text></g>`,
    );
  }
  for (const e of l.edges) {
    const d = curve(e.points);
    const dash = e.edge.kind === "route" ? "" : ` stroke-dasharray="5 4"`;
    const stroke =
      e.edge.kind === "clone" ? `stroke="#94a3b8" stroke-width="1"` : `stroke="#334155" stroke-width="1.3"`;
    out.push(
      `<g class="edge ${e.edge.kind}" data-from="${xml(e.edge.from)}" data-to="${xml(e.edge.to)}"><path d="${d}" fill="none" ${stroke}${dash} marker-end="url(#arrow)"/>`,
    );
    if (e.labelAt && e.edge.label) {
      const w = Math.ceil(e.edge.label.length * FONT.edge * 0.6) + 6;
      out.push(
        `<rect x="${n1(e.labelAt.x - w / 2)}" y="${n1(e.labelAt.y - FONT.edge + 1)}" width="${w}" height="${FONT.edge + 5}" fill="#ffffff" fill-opacity="0.85"/>` +
          `<text x="${n1(e.labelAt.x)}" y="${n1(e.labelAt.y + 2)}" font-size="${FONT.edge}" text-anchor="middle" fill="#334155">${xml(e.edge.label)}</text>`,
      );
    }
    out.push(`</g>`);
  }
  for (const n of l.nodes) {
    const c = COLORS[n.node.kind];
    const rx =
      n.node.kind === "service" || n.node.kind === "external" ? n.height / 2 : n.node.kind === "hostname" ? 2 : 6;
    out.push(`<g class="node ${n.node.kind}" data-id="${xml(n.node.id)}">`);
    out.push(
      `<rect x="${n1(n.x)}" y="${n1(n.y)}" width="${n1(n.width)}" height="${n1(n.height)}" rx="${n1(Math.min(rx, n.height / 2))}" fill="${c.fill}" stroke="${c.stroke}" stroke-width="1.4"${c.dash ? ` stroke-dasharray="${c.dash}"` : ""}/>`,
    );
    const cx = n.x + n.width / 2;
    let y = n.y + 8 + FONT.label;
    const spans = [
      `<tspan x="${n1(cx)}" y="${n1(y)}" font-size="${FONT.label}" font-weight="bold">${xml(n.node.label)}</tspan>`,
    ];
    for (const d of n.node.detail) {
      y += FONT.detail * 1.35;
      spans.push(`<tspan x="${n1(cx)}" y="${n1(y)}" font-size="${FONT.detail}">${xml(d)}</tspan>`);
    }
    out.push(`<text text-anchor="middle" fill="#0f172a">${spans.join("")}</text></g>`);
  }
  out.push(`</g>`, `</svg>`);
  return out.join("\n") + "\n";
}
