import type { StackConfig } from "./config";
import { clusters, platformOnCluster, proxmoxBase } from "./edge";
import type { StackResult } from "./homelab";
import type { Exported, KnativeOutput, LabOutputs } from "./outputs";

/**
 * `lab` (seed 001): a K3s cluster of one server and N worker VMs on Proxmox, Knative Serving
 * (Istio + net-istio by default in this stack's config), Eventing with a Strimzi Kafka of 3
 * brokers (ephemeral or persistent local volumes) and a Kafka Broker, and Tekton Pipelines.
 */
export function lab(cfg: StackConfig): StackResult<Exported<LabOutputs>> {
  const base = proxmoxBase(cfg);
  const { all, platform } = clusters(cfg, base);
  const p = platformOnCluster(cfg, platform);
  // The config module requires kantai:knative.eventing.kafka for this composition.
  const knative = p.outputs.knative as KnativeOutput & { readonly kafkaBootstrap: string };
  return {
    outputs: { composition: "lab", ...p.outputs, knative },
    artifacts: [...base.artifacts, ...all.flatMap((c) => c.artifacts), ...p.artifacts],
  };
}
