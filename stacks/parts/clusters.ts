/** The K3s clusters of kantai:k3s, created once for every composition, and their outputs. */
import type * as pulumi from "@pulumi/pulumi";
import { K3sCluster, type K3sProxmoxContext } from "../../components/k8s/k3sCluster";
import type { VmTemplate } from "../../components/proxmox/vmTemplate";
import type { K3sClusterConfig, StackConfig } from "../config";
import type { K3sClusterOutputs } from "../outputs";
import type { ProxmoxBase } from "./proxmox";

/**
 * An Output placed in the outputs object as the value consumers read (Pulumi resolves nested
 * Outputs on export and keeps a secret one secret, field by field).
 */
export const exported = <T>(o: pulumi.Output<T>): T => o as unknown as T;

/** What K3s VM nodes need from the stack's Proxmox side (templates, bridge, access). */
export function k3sProxmoxContext(
  cfg: StackConfig,
  templates: Readonly<Record<string, VmTemplate>>,
  bridge: pulumi.Input<string>,
): K3sProxmoxContext {
  return {
    templateVmIds: Object.fromEntries(Object.entries(templates).map(([k, t]) => [k, t.vmId])),
    nodeAddresses: cfg.proxmox.addresses,
    nodeUser: cfg.proxmox.sshUser,
    prefix: cfg.network.prefix,
    gateway: cfg.network.gateway,
    dns: { servers: [cfg.gateway.address], domain: cfg.domain },
    bridge,
    datastores: cfg.storage,
    user: cfg.access.vmUser,
    sshAuthorizedKeys: cfg.access.sshPublicKeys,
  };
}

/** One configured K3s cluster (kantai:k3s.<name>) as a K3sCluster component. */
export function k3sCluster(
  cfg: StackConfig,
  c: K3sClusterConfig,
  proxmox: K3sProxmoxContext | undefined,
  opts?: pulumi.ComponentResourceOptions,
): K3sCluster {
  return new K3sCluster(
    c.name,
    {
      version: c.version,
      nodes: c.nodes,
      flannelBackend: c.flannelBackend,
      apiAddress: c.apiAddress,
      apiForward: c.apiForward,
      disable: c.disable,
      upgrade: c.upgrade,
      evenServersForRemoval: c.serverStepDown,
      ...(c.vip ? { vip: c.vip } : {}),
      ...(c.snapshots ? { etcdSnapshots: c.snapshots } : {}),
      ...(c.s3Credentials ? { s3Credentials: c.s3Credentials } : {}),
      sshPrivateKey: cfg.proxmox.sshPrivateKey,
      proxmox,
    },
    opts,
  );
}

/** Every cluster of kantai:k3s, in config order, with its config. */
export interface K3sClusters {
  readonly all: readonly { readonly config: K3sClusterConfig; readonly cluster: K3sCluster }[];
  /** The component of one of the configured clusters (e.g. the platform's, `cfg.platform`). */
  of(config: K3sClusterConfig): K3sCluster;
}

/** The K3s clusters of kantai:k3s, after the hosts gateway (their VM nodes resolve through it). */
export function k3sClusters(cfg: StackConfig, base: ProxmoxBase): K3sClusters {
  const context = k3sProxmoxContext(cfg, base.templates, base.network.bridgeName);
  const all = cfg.k3s.map((config) => ({ config, cluster: k3sCluster(cfg, config, context, base.afterGateway) }));
  return {
    all,
    of(config) {
      const found = all.find((c) => c.config === config);
      if (!found) throw new Error(`kantai internal error: K3s cluster "${config.name}" is not one of kantai:k3s`);
      return found.cluster;
    },
  };
}

/** The outputs of one K3s cluster. */
export function k3sClusterOutputs(cluster: K3sCluster, c: K3sClusterConfig): K3sClusterOutputs {
  return {
    name: c.name,
    apiServer: cluster.apiServer,
    kubeconfig: exported(cluster.kubeconfig),
    version: c.version,
    flannelBackend: c.flannelBackend,
    nodes: cluster.nodes,
  };
}
