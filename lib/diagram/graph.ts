/**
 * The graph a topology is built into: groups, nodes and edges keyed by id, first definition wins,
 * and a deterministic order when finished. Used by the extractors (./extract.ts).
 */
import type { Topology, TopologyEdge, TopologyGroup, TopologyNode } from "./types";

export class TopologyGraph {
  readonly groups = new Map<string, TopologyGroup>();
  readonly nodes = new Map<string, TopologyNode>();
  readonly edges: TopologyEdge[] = [];
  private readonly edgeKeys = new Set<string>();

  /** Add a group unless one with its id exists; returns the id. */
  addGroup(g: TopologyGroup): string {
    if (!this.groups.has(g.id)) this.groups.set(g.id, g);
    return g.id;
  }

  /** Add a node unless one with its id exists; returns the id. */
  addNode(n: TopologyNode): string {
    if (!this.nodes.has(n.id)) this.nodes.set(n.id, n);
    return n.id;
  }

  /** Append detail lines a node does not have yet. */
  extendNode(id: string, detail: readonly string[]): void {
    const n = this.nodes.get(id);
    if (n) this.nodes.set(id, { ...n, detail: [...n.detail, ...detail.filter((d) => !n.detail.includes(d))] });
  }

  /** Add an edge; a second edge between the same nodes of the same kind merges its label in. */
  addEdge(e: TopologyEdge): void {
    const key = `${e.from}>${e.to}>${e.kind}`;
    if (e.from === e.to) return;
    if (this.edgeKeys.has(key)) {
      const i = this.edges.findIndex((x) => `${x.from}>${x.to}>${x.kind}` === key);
      const labels = [
        ...new Set([...(this.edges[i].label ?? "").split(", "), ...(e.label ?? "").split(", ")].filter(Boolean)),
      ];
      this.edges[i] = { ...this.edges[i], ...(labels.length ? { label: labels.join(", ") } : {}) };
      return;
    }
    this.edgeKeys.add(key);
    this.edges.push(e);
  }

  isGroup(id: string): boolean {
    return this.groups.has(id);
  }

  /** The site group enclosing group `g` (or `g` itself), if any. */
  siteOfGroup(g: string | undefined): string | undefined {
    for (let id = g; id !== undefined; id = this.groups.get(id)?.parent)
      if (this.groups.get(id)?.kind === "site") return id;
    return undefined;
  }

  /** Deterministic order: groups and nodes by id, edges by endpoints. */
  finish(title: string): Topology {
    const byId = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
    return {
      title,
      groups: [...this.groups.values()].sort((a, b) => byId(a.id, b.id)),
      nodes: [...this.nodes.values()].sort((a, b) => byId(a.id, b.id)),
      edges: this.edges.sort((a, b) => byId(`${a.from}>${a.to}>${a.kind}`, `${b.from}>${b.to}>${b.kind}`)),
    };
  }
}
