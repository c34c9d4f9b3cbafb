/**
 * The pieces the compositions (stacks/homelab.ts, edge.ts, lab.ts) are assembled from. A composition
 * imports from here and never from another composition:
 *
 * - `proxmox.ts`: the Proxmox foundation (provider, NAT bridge, cloud image, templates), the hosts
 *   gateway (once, for every composition), SSH connections through the Proxmox nodes;
 * - `clusters.ts`: the K3s clusters of kantai:k3s (created once, for every composition) and their outputs;
 * - `platform.ts`: Knative, the Cloudflare tunnel, functions, WebApps and the CoreDNS rewrite on a
 *   cluster, and the outputs both cluster compositions export;
 * - `routing.ts`: latency-aware routing and measured latency (edge);
 * - `storage.ts`: the storage node and MariaDB (edge).
 */
import type { Artifact } from "../../components/artifact";

/** What a composition returns: its stack outputs and every file it renders. */
export interface StackResult<O> {
  readonly outputs: O;
  readonly artifacts: readonly Artifact[];
}

export * from "./proxmox";
export * from "./clusters";
export * from "./platform";
export * from "./routing";
export * from "./storage";
