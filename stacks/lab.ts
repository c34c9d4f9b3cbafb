import type { LabConfig } from "./config";
import type { Exported, LabOutputs } from "./outputs";
import {
  appsOnCluster,
  clusterOutputs,
  k3sClusters,
  knativeOnCluster,
  knativeOutput,
  proxmoxBase,
  tunnelOnCluster,
  tunnelOutput,
  type StackResult,
} from "./parts";

/**
 * `lab` (seed 001): a K3s cluster of one server and N worker VMs on Proxmox, Knative Serving
 * (Istio + net-istio by default in this stack's config), Eventing with a Strimzi Kafka of 3
 * brokers (ephemeral or persistent local volumes) and a Kafka Broker, and Tekton Pipelines.
 */
export function lab(cfg: LabConfig): StackResult<Exported<LabOutputs>> {
  const base = proxmoxBase(cfg);
  const clusters = k3sClusters(cfg, base);
  const cluster = clusters.of(cfg.platform);
  const knative = knativeOnCluster(cfg, cfg.knative, cluster);
  const tunnel =
    cfg.tunnel && cfg.cloudflare ? tunnelOnCluster(cfg.tunnel, cfg.cloudflare, cluster, knative) : undefined;
  const apps = appsOnCluster(cfg, cluster, { knative: { config: cfg.knative, component: knative }, tunnel });
  // Knative installs the Kafka of kantai:knative.eventing.kafka, which this composition requires.
  const kafkaBootstrap = knative.kafkaBootstrap;
  if (kafkaBootstrap === undefined) throw new Error("kantai internal error: the lab's Knative has no Kafka");
  return {
    outputs: {
      composition: "lab",
      ...clusterOutputs(cfg, cluster),
      knative: { ...knativeOutput(knative, cfg.knative), kafkaBootstrap },
      ...(tunnel ? { tunnel: tunnelOutput(tunnel) } : {}),
      serviceUrls: apps.serviceUrls,
    },
    artifacts: [
      ...base.artifacts,
      ...clusters.all.flatMap((c) => c.cluster.artifacts),
      ...knative.artifacts,
      ...(tunnel?.artifacts ?? []),
      ...apps.artifacts,
    ],
  };
}
