/** The Proxmox side every composition starts from, and SSH through the Proxmox nodes. */
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../../components/artifact";
import type { SshConnection } from "../../components/connection";
import { HostsGateway } from "../../components/gateway/hostsGateway";
import { CloudImage } from "../../components/proxmox/cloudImage";
import { ProxmoxNetwork } from "../../components/proxmox/network";
import { VmTemplate } from "../../components/proxmox/vmTemplate";
import type { StackConfig } from "../config";

/** SSH connection to a Proxmox node by name (a node of kantai:proxmoxNodes: config checked every name). */
export function nodeConnection(cfg: StackConfig, node: string): pulumi.Output<SshConnection> {
  return pulumi.secret({
    host: cfg.proxmox.addresses[node],
    user: cfg.proxmox.sshUser,
    privateKey: cfg.proxmox.sshPrivateKey,
    dialErrorLimit: 10,
    perDialTimeout: 15,
  });
}

/** The Proxmox node a VM on the bridge is reached through (its `jump` host). */
export function vmJump(cfg: StackConfig, node: string): { readonly host: string; readonly user: string } {
  return { host: cfg.proxmox.addresses[node], user: cfg.proxmox.sshUser };
}

/** The Proxmox side every composition starts from: the provider, the NAT bridge, the cloud image, the templates. */
export interface ProxmoxFoundation {
  readonly opts: pulumi.ComponentResourceOptions;
  readonly network: ProxmoxNetwork;
  readonly templates: Readonly<Record<string, VmTemplate>>;
}

export function proxmoxFoundation(cfg: StackConfig): ProxmoxFoundation {
  const provider = new proxmox.Provider("proxmox", {
    endpoint: cfg.proxmox.endpoint,
    apiToken: cfg.proxmox.apiToken,
    insecure: cfg.proxmox.insecure,
    ssh: {
      username: cfg.proxmox.sshUser,
      privateKey: cfg.proxmox.sshPrivateKey,
      nodes: cfg.proxmox.nodes.map((n) => ({ name: n.name, address: n.address })),
    },
  });
  const opts = { providers: { proxmoxve: provider } };
  const net = cfg.network;

  const network = new ProxmoxNetwork(
    "lan",
    {
      node: net.node,
      bridge: net.bridge,
      subnet: net.cidr,
      gateway: net.gateway,
      prefix: net.prefix,
      uplink: net.uplink,
      connection: nodeConnection(cfg, net.node),
    },
    opts,
  );

  const image = new CloudImage(
    "ubuntu-jammy",
    {
      node: net.node,
      datastore: cfg.storage.images,
      url: cfg.image.url,
      fileName: cfg.image.fileName,
      checksum: cfg.image.checksum,
      checksumAlgorithm: cfg.image.checksumAlgorithm,
    },
    opts,
  );

  const dnsServers = [cfg.gateway.address];
  const templates: Record<string, VmTemplate> = {};
  for (const t of Object.values(cfg.templates)) {
    templates[t.key] = new VmTemplate(
      t.key,
      {
        node: t.node,
        vmId: t.vmId,
        cores: t.cores,
        memoryMb: t.memoryMb,
        diskGb: t.diskGb,
        importFrom: image.fileId,
        imageIdentity: [cfg.image.url, cfg.image.fileName, cfg.image.checksum ?? ""].join(" "),
        bridge: network.bridgeName,
        datastores: cfg.storage,
        dns: { servers: dnsServers, domain: cfg.domain },
        allowReplace: t.allowReplace,
      },
      opts,
    );
  }
  return { opts, network, templates };
}

/** The foundation with the hosts gateway, and the options of everything placed after the gateway. */
export interface ProxmoxBase extends ProxmoxFoundation {
  readonly gateway: HostsGateway;
  /**
   * The gateway is every VM's only resolver, so VMs are created after it is up and cloud-init can
   * resolve package mirrors on first boot (issue 10 item 4).
   */
  readonly afterGateway: pulumi.ComponentResourceOptions;
  /** The bridge's, the templates' and the gateway's files. */
  readonly artifacts: readonly Artifact[];
}

/**
 * The foundation and the hosts gateway (BIND + root Caddy on the gateway node): `routes` are the
 * composition's own `*.<label>.<domain>` routes, placed before kantai:gateway.routes.
 */
export function proxmoxBase(
  cfg: StackConfig,
  routes: readonly { readonly label: string; readonly upstream: string }[] = [],
): ProxmoxBase {
  const { opts, network, templates } = proxmoxFoundation(cfg);
  const gateway = new HostsGateway(
    "hosts",
    {
      domain: cfg.domain,
      address: cfg.gateway.address,
      internalNetworks: cfg.gateway.internalNetworks,
      forwarders: cfg.gateway.forwarders,
      routes: [...routes, ...cfg.gateway.routes],
      connection: nodeConnection(cfg, cfg.gateway.node),
    },
    opts,
  );
  return {
    opts,
    network,
    templates,
    gateway,
    afterGateway: { ...opts, dependsOn: [network, gateway] },
    artifacts: [...network.artifacts, ...Object.values(templates).flatMap((t) => t.artifacts), ...gateway.artifacts],
  };
}
