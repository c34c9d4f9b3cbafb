import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../components/artifact";
import type { SshConnection } from "../components/connection";
import { ConventionalFleet } from "../components/fleet/conventionalFleet";
import { HostsGateway } from "../components/gateway/hostsGateway";
import { CloudImage } from "../components/proxmox/cloudImage";
import { ProxmoxNetwork } from "../components/proxmox/network";
import { VmTemplate } from "../components/proxmox/vmTemplate";
import type { StackConfig } from "./config";
import type { HomelabOutputs } from "./outputs";

export interface StackResult<O> {
  readonly outputs: O;
  readonly artifacts: readonly Artifact[];
}

/** SSH connection to a Proxmox node by name (validated to exist by the config module). */
export function nodeConnection(cfg: StackConfig, node: string): pulumi.Output<SshConnection> {
  const address = cfg.proxmox.nodes.find((n) => n.name === node)!.address;
  return pulumi.secret({
    host: address,
    user: cfg.proxmox.sshUser,
    privateKey: cfg.proxmox.sshPrivateKey,
    dialErrorLimit: 10,
    perDialTimeout: 15,
  }) as pulumi.Output<SshConnection>;
}

/**
 * Seed 000's homelab: one Proxmox host with the internal NAT bridge, cloud-image templates, the
 * conventional "kenobi" fleet behind a Caddy load balancer, and the hosts gateway (BIND + root Caddy).
 */
export function homelab(cfg: StackConfig): StackResult<HomelabOutputs> {
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
        bridge: network.bridgeName,
        datastores: cfg.storage,
        user: cfg.access.vmUser,
        sshAuthorizedKeys: cfg.access.sshPublicKeys,
        dns: { servers: dnsServers, domain: cfg.domain },
      },
      opts,
    );
  }

  let fleet: ConventionalFleet | undefined;
  if (cfg.fleet) {
    const f = cfg.fleet;
    fleet = new ConventionalFleet(
      f.name,
      {
        node: f.node,
        templateVmId: templates[f.template].vmId,
        instances: f.instances,
        cores: f.cores,
        memoryMb: f.memoryMb,
        port: f.port,
        image: f.image,
        loadBalancer: f.loadBalancer,
        domain: cfg.domain,
        label: f.label,
        prefix: net.prefix,
        gateway: net.gateway,
        dnsServers,
        bridge: network.bridgeName,
        datastores: cfg.storage,
        user: cfg.access.vmUser,
        sshAuthorizedKeys: cfg.access.sshPublicKeys,
      },
      { ...opts, dependsOn: [network] },
    );
  }

  const gateway = new HostsGateway(
    "hosts",
    {
      domain: cfg.domain,
      address: cfg.gateway.address,
      internalNetworks: cfg.gateway.internalNetworks,
      forwarders: cfg.gateway.forwarders,
      routes: [
        ...(cfg.fleet ? [{ label: cfg.fleet.label, upstream: `${cfg.fleet.loadBalancer.ip}:80` }] : []),
        ...cfg.gateway.routes,
      ],
      connection: nodeConnection(cfg, cfg.gateway.node),
    },
    opts,
  );

  const outputs: HomelabOutputs = {
    composition: "homelab",
    domain: cfg.domain,
    nameserver: gateway.nameserver,
    network: { bridge: net.bridge, cidr: net.cidr, gateway: net.gateway },
    templates: Object.fromEntries(Object.values(cfg.templates).map((t) => [t.key, t.vmId])),
    ...(cfg.fleet && fleet
      ? {
          fleet: {
            instances: cfg.fleet.instances.map((s) => ({ name: s.name, vmId: s.vmId, ip: s.ip })),
            loadBalancer: { name: cfg.fleet.loadBalancer.name, vmId: cfg.fleet.loadBalancer.vmId, ip: cfg.fleet.loadBalancer.ip },
            siteUrls: fleet.siteUrls,
          },
        }
      : {}),
    testUrl: `http://test.${cfg.domain}`,
  };

  return {
    outputs,
    artifacts: [
      ...network.artifacts,
      ...Object.values(templates).flatMap((t) => t.artifacts),
      ...(fleet?.artifacts ?? []),
      ...gateway.artifacts,
    ],
  };
}
