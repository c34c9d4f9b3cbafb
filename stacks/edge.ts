import * as pulumi from "@pulumi/pulumi";
import type { EdgeConfig } from "./config";
import type { EdgeOutputs, Exported } from "./outputs";
import {
  appsOnCluster,
  clusterOutputs,
  k3sClusters,
  knativeOnCluster,
  knativeOutput,
  proxmoxBase,
  routingOnCluster,
  statefulOnCluster,
  tunnelOnCluster,
  tunnelOutput,
  type StackResult,
} from "./parts";

/**
 * `edge`: a multi-site K3s cluster of Raspberry Pis and Proxmox VMs (WireGuard between sites),
 * Knative, a Cloudflare tunnel publishing WebApps (seed 003) and functions, latency-aware routing,
 * measured latency, the storage node and MariaDB, with the Proxmox base (bridge, templates, hosts
 * gateway) for the VM nodes.
 */
export function edge(cfg: EdgeConfig): StackResult<Exported<EdgeOutputs>> {
  const base = proxmoxBase(cfg);
  const clusters = k3sClusters(cfg, base);
  const cluster = clusters.of(cfg.platform);
  const st = statefulOnCluster(cfg, cluster);
  const knative = cfg.knative ? knativeOnCluster(cfg, cfg.knative, cluster) : undefined;
  const tunnel = tunnelOnCluster(cfg.tunnel, cfg.cloudflare, cluster, knative ?? cluster);
  const apps = appsOnCluster(cfg, cluster, {
    ...(knative && cfg.knative ? { knative: { config: cfg.knative, component: knative } } : {}),
    tunnel,
    db: st.mariadb,
  });
  const routing = routingOnCluster(cfg, cluster, knative);
  return {
    outputs: {
      composition: "edge",
      ...clusterOutputs(cfg, cluster),
      ...(knative && cfg.knative ? { knative: knativeOutput(knative, cfg.knative) } : {}),
      tunnel: tunnelOutput(tunnel),
      serviceUrls: apps.serviceUrls,
      ...(routing.services.length > 0 ? { routing: pulumi.all(routing.outputs) } : {}),
      ...st.outputs,
    },
    artifacts: [
      ...base.artifacts,
      ...clusters.all.flatMap((c) => c.cluster.artifacts),
      ...(knative?.artifacts ?? []),
      ...tunnel.artifacts,
      ...apps.artifacts,
      ...routing.artifacts,
      ...st.artifacts,
    ],
  };
}
