/**
 * The topology of a stack, read from synth's output (resources.json, outputs.json, artifacts.json
 * and the rendered files): sites, Proxmox hosts, VMs and templates, Kubernetes clusters with their
 * nodes and Knative services, Caddy/BIND servers, Cloudflare tunnels, public hostnames and DNS
 * names, and who routes to whom. Pure: no @pulumi imports, no I/O. Resource types are matched by
 * pattern, so new components and stacks are drawn without changes here.
 */
import { EXTRACTORS, Scope } from "./extract";
import type { SynthOutput, Topology } from "./types";

export { outputClusterNodes } from "./extract";
export type * from "./types";

/**
 * Build the topology of one stack's synth output: every extractor of ./extract.ts in turn (hosts,
 * VMs, SSH nodes, snippets, zones, Caddy servers, public names, Knative services, IngressRoutes,
 * tunnels, Knative ingress, server sites) adds what its kind contributes to one graph.
 * Deterministic: same input, same topology.
 */
export function buildTopology(input: SynthOutput): Topology {
  const scope = new Scope(input);
  for (const extract of EXTRACTORS) extract(scope);
  return scope.graph.finish(`kantai stack ${input.stack}${scope.composition ? ` (${scope.composition})` : ""}`);
}
