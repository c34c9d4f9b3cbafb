/**
 * Mermaid flowchart source for a topology: groups as nested subgraphs, a node shape per kind,
 * solid arrows for routes, dotted for DNS answers and template clones. Deterministic text.
 */
import type { NodeKind, Topology, TopologyEdge, TopologyNode } from "./model";

/** A Mermaid-safe identifier for a topology id. */
export const mermaidId = (id: string): string =>
  id
    .replace(/\*/g, "wildcard")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");

const escape = (s: string) =>
  s.replace(/&/g, "#amp;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");

const SHAPES: Record<NodeKind, [string, string]> = {
  template: ["[/", "/]"],
  vm: ["[", "]"],
  "k8s-node": ["[[", "]]"],
  server: ["[", "]"],
  dns: ["[(", ")]"],
  service: ["([", "])"],
  tunnel: ["{{", "}}"],
  hostname: [">", "]"],
  external: ["((", "))"],
};

const nodeLine = (n: TopologyNode, indent: string) => {
  const [open, close] = SHAPES[n.kind];
  const text = [n.label, ...n.detail].map(escape).join("<br/>");
  return `${indent}${mermaidId(n.id)}${open}"${text}"${close}`;
};

const edgeLine = (e: TopologyEdge) => {
  const arrow = e.kind === "route" ? "-->" : "-.->";
  return `  ${mermaidId(e.from)} ${arrow}${e.label ? `|"${escape(e.label)}"|` : ""} ${mermaidId(e.to)}`;
};

/** The flowchart, left to right, ending with a newline. */
export function renderMermaid(t: Topology): string {
  const lines = ["---", `title: ${t.title}`, "---", "flowchart LR"];
  const children = (parent: string | undefined) => t.groups.filter((g) => g.parent === parent);
  const emit = (parent: string | undefined, indent: string) => {
    for (const n of t.nodes.filter((x) => x.group === parent)) lines.push(nodeLine(n, indent));
    for (const g of children(parent)) {
      lines.push(`${indent}subgraph ${mermaidId(g.id)}["${escape(g.label)}"]`);
      emit(g.id, `${indent}  `);
      lines.push(`${indent}end`);
    }
  };
  emit(undefined, "  ");
  for (const e of t.edges) lines.push(edgeLine(e));
  const cls: Record<string, string> = {
    template: "fill:#eef2f7,stroke:#64748b,stroke-dasharray:4 2",
    vm: "fill:#e0f2fe,stroke:#0369a1",
    k8s_node: "fill:#dcfce7,stroke:#15803d",
    server: "fill:#fef9c3,stroke:#a16207",
    dns: "fill:#fae8ff,stroke:#a21caf",
    service: "fill:#ccfbf1,stroke:#0f766e",
    tunnel: "fill:#ffedd5,stroke:#c2410c",
    hostname: "fill:#ffffff,stroke:#475569",
    external: "fill:#f1f5f9,stroke:#94a3b8,stroke-dasharray:3 3",
  };
  for (const [kind, style] of Object.entries(cls)) {
    const members = t.nodes.filter((n) => n.kind.replace("-", "_") === kind).map((n) => mermaidId(n.id));
    if (members.length > 0) lines.push(`  classDef ${kind} ${style}`, `  class ${members.join(",")} ${kind}`);
  }
  return lines.join("\n") + "\n";
}
